import Testing
@testable import Plotting

@Suite("Markdown tables")
struct MarkdownTableTests {
  @Test("columns are padded to equal width with alignment markers")
  func aligned() {
    let t = markdownTable(headers: ["model", "η", "λ₁"], rows: [["WRN", "0.1", "19.5"], ["Transformer", "0.001", "2"]],
                          alignments: [.left, .right, .center])
    let expected = """
      | model       |     η |  λ₁  |
      | :---------- | ----: | :--: |
      | WRN         |   0.1 | 19.5 |
      | Transformer | 0.001 |  2   |

      """
    #expect(t == expected)
    let lengths = Set(t.split(separator: "\n").map(\.count))
    #expect(lengths.count == 1)
  }

  @Test("pipes are escaped and newlines flattened; short rows padded")
  func escaping() {
    let t = markdownTable(headers: ["a|b", "c"], rows: [["x|y\nz"]])
    #expect(t.contains("a\\|b"))
    #expect(t.contains("x\\|y z"))
    #expect(!t.contains("\nz"))
    let rows = t.split(separator: "\n")
    #expect(rows.count == 3)
    // Every row has the same number of unescaped separators.
    func bars(_ s: Substring) -> Int {
      var n = 0, prev: Character = " "
      for c in s { if c == "|" && prev != "\\" { n += 1 }; prev = c }
      return n
    }
    #expect(Set(rows.map(bars)) == [3])
  }

  @Test("empty input gives an empty string; default alignment is left")
  func edges() {
    #expect(markdownTable(headers: [], rows: []) == "")
    #expect(markdownTable(headers: ["x"], rows: [["1"]]) == "| x   |\n| :-- |\n| 1   |\n")
  }
}
