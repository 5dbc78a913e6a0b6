/// A small dense linear program: maximize `objective · x` subject to `rows · x ≤ limits`, `x ≥ 0`,
/// with every limit non-negative (so `x = 0` is feasible and no phase 1 is needed). Solved by the
/// simplex method with Bland's rule, which cannot cycle; the packing bound's programs have tens of
/// rows and at most a few thousand columns.
public struct LinearProgram: Sendable {
    public var objective: [Double]
    public var rows: [[Double]]
    public var limits: [Double]

    public init(objective: [Double], rows: [[Double]], limits: [Double]) {
        self.objective = objective
        self.rows = rows
        self.limits = limits
    }

    /// The optimum and a point reaching it; nil when the objective is unbounded or the program is
    /// malformed (a negative limit, a row of the wrong length).
    public func maximize() -> (value: Double, x: [Double])? {
        let n = objective.count, m = rows.count
        guard limits.count == m, rows.allSatisfy({ $0.count == n }), limits.allSatisfy({ $0 >= 0 }) else { return nil }
        let eps = 1e-9
        // Tableau columns: the n variables, then one slack per row.
        var table = rows.enumerated().map { i, row in row + (0..<m).map { $0 == i ? 1.0 : 0.0 } }
        var rhs = limits
        var cost = objective + Array(repeating: 0.0, count: m)
        var basis = Array(n..<(n + m))
        for _ in 0..<100_000 {
            // Bland: the lowest-index column that improves the objective enters...
            guard let enter = cost.indices.first(where: { cost[$0] > eps }) else { break }
            // ...and the row with the smallest ratio (ties: lowest basic index) leaves.
            var leave: Int?
            for i in 0..<m where table[i][enter] > eps {
                let ratio = rhs[i] / table[i][enter]
                if let l = leave {
                    let best = rhs[l] / table[l][enter]
                    if ratio < best - eps || (abs(ratio - best) <= eps && basis[i] < basis[l]) { leave = i }
                } else {
                    leave = i
                }
            }
            guard let r = leave else { return nil }
            let pivot = table[r][enter]
            for j in table[r].indices { table[r][j] /= pivot }
            rhs[r] /= pivot
            for i in 0..<m where i != r {
                let factor = table[i][enter]
                guard factor != 0 else { continue }
                for j in table[i].indices { table[i][j] -= factor * table[r][j] }
                rhs[i] = max(0, rhs[i] - factor * rhs[r])
            }
            let factor = cost[enter]
            for j in cost.indices { cost[j] -= factor * table[r][j] }
            basis[r] = enter
        }
        var x = Array(repeating: 0.0, count: n)
        for (i, column) in basis.enumerated() where column < n { x[column] = rhs[i] }
        return (zip(objective, x).reduce(0) { $0 + $1.0 * $1.1 }, x)
    }
}
