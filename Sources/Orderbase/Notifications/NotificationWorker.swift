import OrderbaseStore

/// The host's notification callback: the tenant id and one notification (the
/// `notifications.get` JSON plus `tenant`). 0 means sent; anything else means
/// "try again later" (the retry schedule applies).
public typealias NotificationHandler = @Sendable (_ tenant: String, _ notification: [UInt8]) -> Int32

/// The notification consumer of a tenant's event log, like the webhook one:
///
/// 1. **Fan-out**: events after the `notifications` cursor are matched
///    against enabled templates; each match whose condition holds becomes one
///    notification per recipient, rendered now and written in one batch with
///    the cursor (exactly once). A recipient without an address is logged as
///    `skipped`, with the reason.
/// 2. **Attempts**: due notifications go out through their channel (SMTP,
///    the SMS gateway, or the host callback), outside the write lock; each
///    outcome is written: `sent`, a retry on the webhook schedule, or
///    `failed` (a permanent refusal: an SMTP 5xx, a gateway 4xx, or ten failed attempts).
extension NotificationService {
    static let notificationCursor = "notifications"
    /// How long a notification whose channel cannot send now (disabled, or
    /// no transport or callback in this engine) waits before it is looked at again.
    static let notificationParkMilliseconds: Int64 = 60_000

    func notificationTemplates() throws(OrderbaseError) -> [NotificationTemplate] {
        var out: [NotificationTemplate] = []
        try scan(from: [Keyspace.notificationTemplate], to: [Keyspace.notificationTemplate + 1]) { _, v throws(OrderbaseError) in
            out.append(try NotificationTemplate.decode(Array(v)))
            return true
        }
        return out
    }

    /// One notification pass: fan out, then attempt what is due. Returns attempts made.
    /// `bound`: the log's last sequence, read before `templates` were.
    func deliverNotifications(_ templates: [NotificationTemplate], upTo bound: UInt64, config: OutboundConfig, limit: Int = 50) throws(OrderbaseError) -> Int {
        try fanOutNotifications(templates, upTo: bound)
        let now = clock.nowMilliseconds()
        var due: [String] = []
        try scan(from: [Keyspace.notificationDue], to: Keyspace.notificationDueKey(now + 1, "")) { k, _ throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            _ = r.uint64()
            guard let id = r.string() else { throw OrderbaseError(.corruption, "bad notification due key") }
            due.append(id)
            return due.count < limit
        }
        var sent = 0
        var channels: [String: NotificationChannel?] = [:]  // decoded once per pass
        for id in due where try attemptNotification(id, config: config, channels: &channels) { sent += 1 }
        return sent
    }

    private func fanOutNotifications(_ templates: [NotificationTemplate], upTo bound: UInt64) throws(OrderbaseError) {
        let live = templates.filter { $0.enabled && !$0.eventTypes.isEmpty }
        let floor = live.map(\.fromSequence).min() ?? UInt64.max
        var cursor = try self.cursor(Self.notificationCursor)
        if live.isEmpty || floor > cursor {
            // Nothing before the oldest live template's start can match: skip ahead cheaply.
            let to = live.isEmpty ? bound : min(bound, floor)
            if to > cursor {
                try write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
                    wc.setCursor(Self.notificationCursor, to)
                }
                cursor = to
            }
            if live.isEmpty { return }
        }
        var channels: [String: NotificationChannel?] = [:]
        while true {
            let events = try events(after: cursor, upTo: bound, limit: 100)
            guard let last = events.last?.0 else { return }
            // Rendered before the write, so the tenant's write lock waits only for the batch
            // (this pass lock keeps fan-outs of one tenant one at a time).
            let now = clock.nowMilliseconds()
            var records: [NotificationRecord] = []
            for (seq, type, _, event) in events {
                for t in live where seq > t.fromSequence && t.matches(type) {
                    records += makeNotifications(t, channel: try channel(t.channelID, cache: &channels), order: event["order"] ?? .null,
                                                 event: NotificationData.event(from: event), sequence: seq, to: nil, now: now)
                }
            }
            try write(RequestContext.system) { (wc: inout WriteContext) throws(OrderbaseError) in
                for r in records { wc.save(before: nil, after: r) }
                wc.setCursor(Self.notificationCursor, last)
            }
            cursor = last
        }
    }

    /// A channel as stored now (nil: none), decoded once per `cache`.
    func channel(_ id: String, cache: inout [String: NotificationChannel?]) throws(OrderbaseError) -> NotificationChannel? {
        if let known = cache[id] { return known }
        let bytes = try store { () throws(StoreError) in try database.get(Keyspace.channelKey(id)) }
        let c = try bytes.map { (b) throws(OrderbaseError) in try NotificationChannel.decode(b) }
        cache[id] = .some(c)
        return c
    }


    /// The last event sequence written (0: none).

    /// The notifications one template makes for one event (or a manual send
    /// to `to`) through `channel` (nil: it no longer exists): none when its
    /// condition is false; one per distinct recipient, rendered, `pending` and
    /// due `now`, or `skipped` with the reason. Reads and writes nothing:
    /// callers store them (`wc.save`).
    func makeNotifications(_ t: NotificationTemplate, channel: NotificationChannel?, order: JSON, event: JSON, sequence: UInt64?,
                           to manual: [String]?, now: Int64) -> [NotificationRecord] {
        let eventType = event["type"]?.stringValue ?? "manual"
        let orderID = order["id"]?.stringValue
        func record(_ channelType: String, _ recipientType: String, _ address: String?) -> NotificationRecord {
            NotificationRecord(id: ids.make("ntf_", at: now), templateID: t.id, channelID: t.channelID, channelType: channelType,
                               eventSequence: sequence, eventType: eventType, orderID: orderID, recipientType: recipientType,
                               recipient: address, createdAt: now, updatedAt: now)
        }
        guard let channel else {
            var r = record("unknown", "customer", nil)
            r.status = "failed"
            r.note = "channel \(t.channelID) does not exist"
            return [r]
        }
        if manual == nil, let condition = t.condition {
            let data = JSON.object(["order": order, "actor": event["actor"] ?? .null, "event": event])
            do {
                guard try condition.test(data, context: expressions.evaluationContext(currency: order["currency"]?.stringValue)) else { return [] }
            } catch {
                var r = record(channel.type, "customer", nil)
                r.status = "failed"
                r.note = "condition: \(error.message)"
                return [r]
            }
        }
        // Who: (type, address or nil, why there is none).
        var targets: [(String, String?, String?)] = []
        if let manual {
            targets = manual.map { ("manual", $0, nil) }
        } else {
            for r in t.recipients {
                switch r.type {
                case "customer":
                    let c = order["customer"]
                    let address: String? = switch channel.type {
                    case "email": c?["email"]?.stringValue
                    case "sms": c?["phone"]?.stringValue ?? order["shipping_address"]?["phone"]?.stringValue
                    default: c?["email"]?.stringValue ?? c?["phone"]?.stringValue
                    }
                    targets.append(("customer", address, address == nil ? "the order's customer has no \(channel.type == "sms" ? "phone number" : "email address")" : nil))
                case "field":
                    var v: JSON? = .object(["order": order])
                    for p in (r.field ?? "").split(separator: ".") { v = v?[String(p)] }
                    let address = v?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                    targets.append(("field", address, address == nil ? "\(r.field ?? "") is not set" : nil))
                default:
                    targets.append(("staff", r.address, nil))
                }
            }
        }
        var seen = Set<String>()
        var out: [NotificationRecord] = []
        var context: JSONObject?  // built once, for the first recipient with an address
        for (type, address, missing) in targets {
            if let address { guard seen.insert(address).inserted else { continue } }
            var r = record(channel.type, type, address)
            if let address, let problem = RecipientAddress.problem(address, channelType: channel.type) {
                r.status = "skipped"
                r.note = problem
            } else if let address {
                if context == nil { context = NotificationData.context(order: order, event: event, shop: settings) }
                let data = NotificationData.with(context!, recipient: (type, address))
                do {
                    r.subject = try t.subject?.render(data, escape: .none, budgets: budgets)
                    r.text = try t.text?.render(data, escape: .none, budgets: budgets)
                    r.html = try t.html?.render(data, escape: .html, budgets: budgets)
                    r.body = try t.body?.render(data, escape: .none, budgets: budgets)
                    r.nextAttemptAt = now
                } catch {
                    // Recorded on the notification, never retried: the same order renders the same way.
                    (r.subject, r.text, r.html, r.body) = (nil, nil, nil, nil)
                    r.status = "failed"
                    r.note = "render: \(error.message)"
                }
            } else {
                r.status = "skipped"
                r.note = missing
            }
            out.append(r)
        }
        return out
    }

    /// Sends one due notification and records the outcome; false when it was
    /// not sent (no longer due, or its channel cannot send now).
    private func attemptNotification(_ id: String, config: OutboundConfig,
                                     channels: inout [String: NotificationChannel?]) throws(OrderbaseError) -> Bool {
        guard let bytes = try store({ () throws(StoreError) in try database.get(Keyspace.notificationKey(id)) }) else { return false }
        let n = try NotificationRecord.decode(bytes)
        guard n.status == "pending", let due = n.nextAttemptAt, let to = n.recipient else { return false }
        guard let channel = try channel(n.channelID, cache: &channels) else {
            try recordNotification(n, bytes, due: due, outcome: .init(at: clock.nowMilliseconds(), statusCode: nil, latencyMilliseconds: 0,
                                                                      error: "channel \(n.channelID) was deleted", response: nil), permanent: true)
            return false
        }
        let now = clock.nowMilliseconds()
        var waiting: String?
        var response: OutboundResponse?
        var permanent = false
        switch channel.type {
        case "email":
            guard let e = channel.email, let mail = config.mail else { waiting = "this engine has no mail transport"; break }
            guard channel.enabled else { waiting = "the channel is disabled"; break }
            guard e.security != "none" || config.allowHTTP else { waiting = "plain SMTP needs the engine option webhook_allow_http"; break }
            let message = MIMEMessage.build(from: e.from, fromName: e.fromName, to: to, replyTo: e.replyTo, subject: n.subject ?? "",
                                            text: n.text ?? "", html: n.html, messageID: n.id, date: now)
            let r = mail.send(OutboundMail(url: e.url, requireTLS: e.security == "starttls", username: e.username, password: e.password,
                                           from: e.from, recipients: [to], message: message,
                                           connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
                                           timeoutMilliseconds: config.timeoutMilliseconds, addressPolicy: config.policy,
                                           caFile: config.caFile))
            response = r
            permanent = (500..<600).contains(r.status ?? 0)
        case "sms":
            guard let s = channel.sms, let transport = config.transport else { waiting = "this engine has no HTTP transport"; break }
            guard channel.enabled else { waiting = "the channel is disabled"; break }
            do { try WebhookURL.check(s.url, allowHTTP: config.allowHTTP, field: "sms.url") } catch { waiting = error.message; break }
            let data = JSON.object(["to": .string(to), "from": .string(s.from ?? ""), "body": .string(n.body ?? ""),
                                    "notification_id": .string(n.id), "order_id": .string(n.orderID ?? "")])
            var headers = [("Content-Type", s.mediaType)]
            if let a = s.authHeader { headers.append(("Authorization", a)) }
            let rendered: String
            do { rendered = try s.body.render(data, escape: s.escape, budgets: budgets) } catch { waiting = error.message; break }
            let r = transport.post(OutboundRequest(url: s.url, headers: headers, body: Array(rendered.utf8),
                                                   connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
                                                   timeoutMilliseconds: config.timeoutMilliseconds, addressPolicy: config.policy,
                                                   caFile: config.caFile))
            response = r
            if let code = r.status, (400..<500).contains(code), code != 408, code != 429 { permanent = true }
        default:
            guard let handler = config.notificationHandler else { waiting = "no notification callback is registered in this engine"; break }
            guard channel.enabled else { waiting = "the channel is disabled"; break }
            var w = JSONWriter()
            n.write(&w) { w in w.key("tenant"); w.string(core.id) }
            let started = SystemClock().nowMilliseconds()
            let rc = handler(core.id, w.bytes)
            response = OutboundResponse(status: nil, latencyMilliseconds: SystemClock().nowMilliseconds() - started,
                                        error: rc == 0 ? nil : "the callback returned \(rc): try again later")
        }
        if let waiting {
            try write(RequestContext.system) { (wc: inout WriteContext) throws(OrderbaseError) in
                guard try wc.read(Keyspace.notificationKey(n.id)) == bytes else { return }  // someone else moved it
                var cur = n
                cur.nextAttemptAt = wc.now + Self.notificationParkMilliseconds
                cur.note = "waiting: \(waiting)"
                cur.updatedAt = wc.now
                wc.save(before: n, after: cur)
            }
            return false
        }
        guard let r = response else { return false }
        let failed = r.error != nil || (r.status.map { !(200..<400).contains($0) } ?? false)
        let outcome = WebhookDelivery.Attempt(at: now, statusCode: r.status, latencyMilliseconds: r.latencyMilliseconds,
                                              error: r.error ?? (failed ? "status \(r.status ?? 0)" : nil),
                                              response: r.bodyPrefix.isEmpty ? nil : r.bodyPrefix)
        try recordNotification(n, bytes, due: due, outcome: outcome, permanent: failed && permanent, retryAfter: r.retryAfterSeconds)
        return true
    }

    /// Writes an attempt's outcome onto `n` (read as `bytes`), unless the
    /// record changed meanwhile (a retry or a template deletion moved it).
    private func recordNotification(_ n: NotificationRecord, _ bytes: [UInt8], due: Int64, outcome: WebhookDelivery.Attempt, permanent: Bool,
                                    retryAfter: Int64? = nil) throws(OrderbaseError) {
        let succeeded = outcome.error == nil
        try write(RequestContext.system) { (wc: inout WriteContext) throws(OrderbaseError) in
            guard try wc.read(Keyspace.notificationKey(n.id)) == bytes else { return }  // someone else moved it
            var cur = n
            cur.attempts.append(outcome)
            cur.updatedAt = wc.now
            cur.note = nil
            if succeeded {
                cur.status = "sent"
                cur.sentAt = wc.now
                cur.nextAttemptAt = nil
            } else if !permanent, let at = RetrySchedule.next(after: cur.attempts.count, now: wc.now, retryAfterSeconds: retryAfter) {
                cur.nextAttemptAt = at
            } else {
                cur.status = "failed"
                cur.nextAttemptAt = nil
            }
            wc.save(before: n, after: cur)
        }
    }
}

extension EventConsumer {
    /// Notifications: templates' messages (docs/notifications.md).
    static let notifications = EventConsumer(
        name: NotificationService.notificationCursor,
        hasWork: { (core) throws(OrderbaseError) in try core.count(Keyspace.notificationTemplate, upTo: 1) > 0 },
        pass: { (core, config) throws(OrderbaseError) in
            // The log's end first, then the templates: a template made after that read takes the events after it next pass.
            let bound = try core.lastEventSequence()
            let templates = try core.notifications.notificationTemplates()
            return templates.isEmpty ? 0 : try core.notifications.deliverNotifications(templates, upTo: bound, config: config)
        })
}
