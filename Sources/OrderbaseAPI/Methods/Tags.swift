import Orderbase

extension Catalogue {
    /// A tag to look up (filters, cursors): any text; one that no tag can be matches nothing.
    static let tagText = Schema.string(max: 100, min: 1)
    static let tagList = req("tags", .list(Schemas.tagInput, max: 250, min: 1),
                             "Tags: each 1–100 characters, trimmed, no commas or control characters (docs/tags.md).")

    /// Tags in use and bulk changes to them (docs/tags.md); jobs (docs/jobs.md).
    static let tagMethods: [Method] = [
        Method("tags.list", .read, [Route("GET", "/v1/tags")],
               "The tags on the tenant's orders with how many orders carry each, in alphabetical order of their lowercase form.",
               request: [opt("prefix", tagText, "Only tags starting with this, ignoring case."),
                         opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", tagText, "The last name of the previous page.")],
               response: Schemas.page(.ref("Tag")),
               .tenant { t, r throws(OrderbaseError) in try t.tags.listTags(r) }),
        Method("tags.rename", .admin, [Route("POST", "/v1/tags/rename")],
               "Rename a tag on every order that has it (ignoring case), as a job; renaming onto another tag merges them.",
               request: [req("from", Schemas.tagInput, "The tag as it is."), req("to", Schemas.tagInput, "Its new spelling.")],
               response: .ref("Job"), status: 202,
               .tenant { t, r throws(OrderbaseError) in try t.tags.renameTag(r) }),
        Method("tags.delete", .admin, [Route("POST", "/v1/tags/delete")],
               "Remove a tag from every order that has it (ignoring case), as a job.",
               request: [req("name", Schemas.tagInput, "The tag.")],
               response: .ref("Job"), status: 202,
               .tenant { t, r throws(OrderbaseError) in try t.tags.deleteTag(r) }),
        Method("jobs.get", .read, [Route("GET", "/v1/jobs/{id}")], "A bulk job: its status and progress.",
               request: [req("id", .string(max: 64), "The job (job_…).")], response: .ref("Job"),
               .tenant { t, r throws(OrderbaseError) in try t.jobs.getJob(r) }),
        Method("jobs.list", .read, [Route("GET", "/v1/jobs")], "Bulk jobs, newest first.",
               request: [opt("status", .oneOf(ValueLists.jobStatuses), "Only jobs with this status."),
                         opt("type", .oneOf(ValueLists.jobTypes), "Only jobs of this type."),
                         opt("limit", .int(1...250), "Page size (default 20)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("Job")),
               .tenant { t, r throws(OrderbaseError) in try t.jobs.listJobs(r) }),
    ]
}
