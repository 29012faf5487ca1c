import Orderbase

extension Catalogue {
    static let sku = req("sku", .string(max: InventoryService.maxSKULength, min: 1), "The SKU, as order lines carry it.")
    static let locationID = req("location_id", .string(max: 64, min: 1), "The location (loc_…).")
    /// Why stock changes, and what caused it: every change of stock carries these.
    static let stockWhy: [Property] = [
        req("reason", .oneOf(ValueLists.callerMovementReasons), "Why (docs/inventory.md, \"Reasons\")."),
        opt("reference", .string(max: 255, min: 1), "What caused it: a transfer, a purchase order, a URL (movements are listed by it)."),
        opt(idempotencyKeyField, .string(max: 255, min: 1), "The same request again answers the first answer and changes nothing (REST: Idempotency-Key)."),
    ]
    static let quantityName = opt("name", .oneOf(ValueLists.adjustableQuantities), "Which quantity (default on_hand; committed moves only with orders).")
    static let delta = req("delta", .anyOf([.int(-InventoryService.maxQuantity...(-1)), .int(1...InventoryService.maxQuantity)]),
                           "The change, never 0.")
    static let setQuantity: [Property] = [
        req("quantity", .int(0...InventoryService.maxQuantity), "The new quantity."),
        opt("compare_quantity", .int(0...InventoryService.maxQuantity),
            "Fails with version_conflict (details expected, actual) unless the quantity is this now."),
    ]
    static let stockAnswer = Schema.object([req("levels", .list(.ref("InventoryLevel"))), req("movements", .list(.ref("InventoryMovement")))])
    static let quantityFields = ValueLists.inventoryQuantities.map { req($0, .integer(min: nil, max: nil)) }

    /// Locations, stock and fulfillment orders (docs/inventory.md).
    static let inventoryMethods: [Method] = [
        Method("locations.create", .admin, [Route("POST", "/v1/locations")], "Add a location: a warehouse, store or drop-shipper.",
               request: Schemas.locationCreate, response: .ref("Location"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.inventory.createLocation(r) }),
        Method("locations.get", .read, [Route("GET", "/v1/locations/{id}")], "A location.",
               request: [req("id", .string(max: 64))], response: .ref("Location"),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.getLocation(r) }),
        Method("locations.list", .read, [Route("GET", "/v1/locations")], "Every location, in routing order (rank, then oldest first).",
               request: [opt("active", .boolean, "Only active (true) or inactive (false) ones.")],
               response: Schemas.page(.ref("Location")),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.listLocations(r) }),
        Method("locations.update", .admin, [Route("PATCH", "/v1/locations/{id}")],
               "Change a location's name, type, address, active, fulfills_online_orders, rank or ships_to.",
               request: [req("id", .string(max: 64))] + Schemas.locationUpdate, response: .ref("Location"),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.updateLocation(r) }),

        Method("inventory.get", .read, [Route("GET", "/v1/inventory/item")],
               "A SKU's inventory: whether it is tracked, its backorder policy, its level at each location and the totals.",
               request: [sku],
               response: .object(Schemas.inventoryItem + [req("levels", .list(.ref("InventoryLevel"))),
                                                          req("totals", .object([req("available", .integer(min: nil, max: nil))] + quantityFields))]),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.getItem(r) }),
        Method("inventory.update_item", .write, [Route("PATCH", "/v1/inventory/item")],
               "Set whether a SKU is tracked and whether it may be backordered (made on first use).",
               request: [sku] + Schemas.inventoryItemUpdate, response: .ref("InventoryItem"),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.updateItem(r) }),
        Method("inventory.list", .read, [Route("GET", "/v1/inventory/levels")], "Stock levels by SKU, then location.",
               request: [opt("sku", .string(max: InventoryService.maxSKULength, min: 1)), opt("location_id", .string(max: 64, min: 1)),
                         limit100, opt("starting_after", .string(max: 320, min: 1), "A level's location_id:sku.")],
               response: Schemas.page(.ref("InventoryLevel")),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.listLevels(r) }),
        Method("inventory.adjust", .write, [Route("POST", "/v1/inventory/adjust")],
               "Change one quantity of a SKU at a location by a delta, with a movement in the ledger.",
               request: [sku, locationID, quantityName, delta] + stockWhy, response: stockAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.inventory.adjust(r) }),
        Method("inventory.adjust_many", .write, [Route("POST", "/v1/inventory/adjust_many")],
               "Many adjustments in one write: all or nothing.",
               request: [req("changes", .list(.object([sku, locationID, quantityName, delta]), max: InventoryService.maxChanges, min: 1),
                             "Applied in order.")] + stockWhy,
               response: stockAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.inventory.adjustMany(r) }),
        Method("inventory.set", .write, [Route("POST", "/v1/inventory/set")],
               "Set one quantity of a SKU at a location (a stock count), optionally only if it is still compare_quantity.",
               request: [sku, locationID, quantityName] + setQuantity + stockWhy, response: stockAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.inventory.set(r) }),
        Method("inventory.set_many", .write, [Route("POST", "/v1/inventory/set_many")],
               "A stock count of many SKUs in one write: all or nothing.",
               request: [req("quantities", .list(.object([sku, locationID, quantityName] + setQuantity), max: InventoryService.maxChanges, min: 1),
                             "Applied in order.")] + stockWhy,
               response: stockAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.inventory.setMany(r) }),
        Method("inventory.move", .write, [Route("POST", "/v1/inventory/move")],
               "Move units between buckets at one location: available, reserved, damaged, quality_control, safety_stock; incoming → available receives them.",
               request: [sku, locationID, req("from", .oneOf(ValueLists.moveBuckets)), req("to", .oneOf(ValueLists.moveTargets)),
                         req("quantity", .int(1...InventoryService.maxQuantity))] + stockWhy,
               rules: ValueLists.moveTargets.map { b in .when("from", .equals(b), restrict: [req("to", .oneOf(ValueLists.moveTargets.filter { $0 != b }))]) },
               response: stockAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.inventory.move(r) }),
        Method("inventory.movements", .read, [Route("GET", "/v1/inventory/movements")], "The stock ledger, newest first.",
               request: [opt("sku", .string(max: InventoryService.maxSKULength, min: 1)), opt("location_id", .string(max: 64, min: 1)),
                         opt("reference", .string(max: 255, min: 1), "Like order:ord_… (an order's commitment and release)."),
                         limit100, opt("starting_after", .string(max: 64, min: 1))],
               response: Schemas.page(.ref("InventoryMovement")),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.listMovements(r) }),

        Method("fulfillment_orders.get", .read, [Route("GET", "/v1/fulfillment_orders/{id}")], "A fulfillment order.",
               request: [req("id", .string(max: 64))], response: .ref("FulfillmentOrder"),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.getFulfillmentOrder(r) }),
        Method("fulfillment_orders.list", .read, [Route("GET", "/v1/fulfillment_orders")], "Fulfillment orders, newest first.",
               request: [opt("order_id", .string(max: 64, min: 1)), opt("location_id", .string(max: 64, min: 1)),
                         opt("status", .oneOf(ValueLists.fulfillmentOrderStatuses)),
                         opt("limit", .int(1...250), "Page size (default 50)."), opt("starting_after", .string(max: 64, min: 1))],
               response: Schemas.page(.ref("FulfillmentOrder")),
               .tenant { t, r throws(OrderbaseError) in try t.inventory.listFulfillmentOrders(r) }),
    ]
}
