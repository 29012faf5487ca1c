/// ISO 4217 currencies and their minor-unit exponents (JPY 0, GBP 2, KWD 3).
public enum Currency {
    private static let exponents: [String: Int] = {
        var t: [String: Int] = [:]
        let two = """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF \
        CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL \
        HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP \
        MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD \
        SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS \
        VES WST XCD YER ZAR ZMW ZWG
        """
        for c in two.split(separator: " ") { t[String(c)] = 2 }
        for c in "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(separator: " ") { t[String(c)] = 0 }
        for c in "BHD IQD JOD KWD LYD OMR TND".split(separator: " ") { t[String(c)] = 3 }
        for c in "CLF UYW".split(separator: " ") { t[String(c)] = 4 }
        return t
    }()

    /// Every code the engine knows, sorted.
    public static let codes: [String] = exponents.keys.sorted()

    /// The number of decimal places of `code`, or nil when it is not an active ISO 4217 code.
    public static func exponent(_ code: String) -> Int? { exponents[code] }
}

/// Money arithmetic: integers in minor units, checked, bounded to ±10^15
/// (a quadrillion minor units) so sums of many amounts stay far from Int64 overflow.
enum Money {
    static let max: Int64 = 1_000_000_000_000_000

    static func add(_ a: Int64, _ b: Int64, field: String) throws(OrderbaseError) -> Int64 {
        let (r, o) = a.addingReportingOverflow(b)
        guard !o, r <= max, r >= -max else { throw OrderbaseError.invalid("amount out of range in \(field)", field: field) }
        return r
    }

    static func multiply(_ a: Int64, _ b: Int64, field: String) throws(OrderbaseError) -> Int64 {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        guard !o, r <= max, r >= -max else { throw OrderbaseError.invalid("amount out of range in \(field)", field: field) }
        return r
    }

    /// `amount × rate`, rate a decimal string such as "0.20", rounded half away from zero.
    static func applyRate(_ amount: Int64, rate: DecimalRate, field: String) throws(OrderbaseError) -> Int64 {
        let (p, o) = amount.multipliedReportingOverflow(by: rate.units)
        guard !o else { throw OrderbaseError.invalid("amount out of range in \(field)", field: field) }
        let half = rate.scale / 2
        let q = p >= 0 ? (p + half) / rate.scale : -((-p + half) / rate.scale)
        return q
    }
}

/// A non-negative decimal rate with up to 6 fraction digits, kept exact as units / scale.
struct DecimalRate: Equatable {
    let text: String
    let units: Int64
    let scale: Int64

    init?(_ s: String) {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 12 else { return nil }
        var units: Int64 = 0
        var scale: Int64 = 1
        var seenDot = false
        var digits = 0
        for c in u {
            if c == 0x2E {
                if seenDot { return nil }
                seenDot = true
                continue
            }
            guard c >= 0x30 && c <= 0x39 else { return nil }
            units = units * 10 + Int64(c - 0x30)
            digits += 1
            if seenDot {
                scale *= 10
                if scale > 1_000_000 { return nil }
            }
        }
        guard digits > 0, u.first != 0x2E, u.last != 0x2E else { return nil }
        self.text = s
        self.units = units
        self.scale = scale
    }

    /// 0 ≤ rate ≤ 1.
    var isFraction: Bool { units <= scale }
}
