/// Column alignment in a Markdown table.
public enum ColumnAlignment: Sendable, Hashable {
  case left, center, right

  /// The delimiter-row cell for a column of `width` characters (at least 3).
  func rule(_ width: Int) -> String {
    let w = Swift.max(3, width)
    switch self {
    case .left: return ":" + String(repeating: "-", count: w - 1)
    case .right: return String(repeating: "-", count: w - 1) + ":"
    case .center: return ":" + String(repeating: "-", count: w - 2) + ":"
    }
  }
}

/// A GitHub-flavoured Markdown table with columns padded to equal width, so it also reads as plain text.
///
/// Pure: the same input gives the same string. `|` inside cells is escaped as `\|` and newlines become
/// spaces; short rows are padded with empty cells. `alignments` defaults to left for every column;
/// missing entries are left-aligned too.
///
/// ```
/// | model | η    | λ₁   |
/// | :---- | ---: | ---: |
/// | WRN   | 0.1  | 19.5 |
/// ```
public func markdownTable(headers: [String], rows: [[String]], alignments: [ColumnAlignment] = []) -> String {
  let columns = Swift.max(headers.count, rows.map(\.count).max() ?? 0)
  guard columns > 0 else { return "" }
  func escape(_ s: String) -> String {
    var out = ""
    for ch in s {
      switch ch {
      case "|": out += "\\|"
      case "\n", "\r", "\r\n": out += " "
      default: out.append(ch)
      }
    }
    return out
  }
  func cells(_ row: [String]) -> [String] { (0..<columns).map { $0 < row.count ? escape(row[$0]) : "" } }
  let head = cells(headers)
  let body = rows.map(cells)
  let align = (0..<columns).map { $0 < alignments.count ? alignments[$0] : ColumnAlignment.left }
  let widths = (0..<columns).map { c in Swift.max(3, ([head] + body).map { $0[c].count }.max() ?? 0) }
  func pad(_ s: String, _ w: Int, _ a: ColumnAlignment) -> String {
    let n = w - s.count
    guard n > 0 else { return s }
    switch a {
    case .left: return s + String(repeating: " ", count: n)
    case .right: return String(repeating: " ", count: n) + s
    case .center: return String(repeating: " ", count: n / 2) + s + String(repeating: " ", count: n - n / 2)
    }
  }
  func line(_ row: [String]) -> String {
    "| " + (0..<columns).map { pad(row[$0], widths[$0], align[$0]) }.joined(separator: " | ") + " |"
  }
  var lines = [line(head)]
  lines.append("| " + (0..<columns).map { align[$0].rule(widths[$0]) }.joined(separator: " | ") + " |")
  lines += body.map(line)
  return lines.joined(separator: "\n") + "\n"
}
