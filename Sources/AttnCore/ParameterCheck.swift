/// Range checks of typed library parameters, one line each at the call site, each
/// throwing `AttnError.usage` with the `Parameter` at fault and a message in plain words
/// (a front end prefixes its own spelling of the parameter).
extension Parameter {
    /// - Throws: `AttnError.usage(self, "must be in a...b")` unless `range` contains `value`.
    public func require<T: Comparable>(_ value: T, in range: ClosedRange<T>) throws {
        guard range.contains(value) else { throw AttnError.usage(self, "must be in \(range)") }
    }

    /// - Throws: `AttnError.usage(self, message)` unless `condition` holds.
    public func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        guard condition else { throw AttnError.usage(self, message()) }
    }
}
