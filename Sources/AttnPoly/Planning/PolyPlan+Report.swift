import AttnCore

/// `plan`'s two outputs: the JSON object and the table.
extension PolyPlan {
    /// Both outputs as one report (`command` "plan").
    /// - Parameter scale: the scale as requested (the plan keeps only its value).
    public func report(scale: Scale) -> RunReport {
        RunReport(command: "plan", text: [text(scale: scale)], json: json(scale: scale))
    }

    /// - Parameter scale: the scale as requested (the plan keeps only its value).
    public func json(scale: Scale) -> JSONValue {
        .object([
            ("n", .int(n)), ("d", .int(d)), ("dv", .int(valueCols)), ("B", .double(entryBound)),
            ("scale", .string(scale.description)), ("scale_value", .double(self.scale)), ("eps", .double(epsilon)),
            ("family", .string(family.rawValue)), ("radius", .double(radius)), ("degree", .int(degree)),
            ("aggarwal_alman_degree", .double(aggarwalAlmanDegree)), ("rank", .double(rank)),
            ("relative_error_bound", .double(certifiedRelativeError)),
            ("output_error_bound", .double(outputErrorBound)),
            ("poly_flops", .double(polyFlops)), ("exact_flops", .double(exactFlops)),
            ("poly_memory_bytes", .double(polyMemory)), ("exact_tiled_memory_bytes", .double(exactTiledMemory)),
            ("exact_naive_memory_bytes", .double(exactNaiveMemory)),
            ("crossover_n", .double(crossoverN)), ("poly_wins", .bool(polyWins)),
        ])
    }

    public func text(scale: Scale) -> String {
        let sci = TextFormat.sci
        return [
            "plan: n = \(n), d = \(d), d_v = \(valueCols), B = \(entryBound), scale = \(scale) (s = \(sci(self.scale))), "
                + "ε = \(sci(epsilon)), family = \(family.rawValue)",
            "  score radius R = s·d·B²          \(sci(radius))",
            "  certified degree g               \(degree)   (Aggarwal–Alman Θ(·) with constant 1: "
                + "\(TextFormat.fixed(aggarwalAlmanDegree, 1)))",
            "  certified sup relative error     \(sci(certifiedRelativeError))",
            "  rank r = C(g + d, d)             \(sci(rank))",
            "  a-priori max|T − Att| (|V| ≤ B)  \(sci(outputErrorBound))  (+ rounding, reported by approx)",
            "  flops  poly \(sci(polyFlops))   exact \(sci(exactFlops))   ratio exact/poly \(sci(exactFlops / polyFlops))",
            "  memory poly \(sci(polyMemory)) B   exact tiled \(sci(exactTiledMemory)) B   exact naive n² "
                + "\(sci(exactNaiveMemory)) B",
            "  crossover: the polynomial method needs fewer flops for n ≥ \(sci(crossoverN))  → at n = \(n): "
                + (polyWins ? "poly wins" : "exact wins"),
        ].joined(separator: "\n")
    }
}
