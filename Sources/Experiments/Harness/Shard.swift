/// One of n deterministic parts of a sweep (`--shard i/n`, 1-based): run j belongs to shard
/// (j mod n) + 1, so shards interleave cheap and expensive runs and their union is the sweep.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
  public let index: Int
  public let count: Int

  public static let whole = Shard(uncheckedIndex: 1, count: 1)

  init(uncheckedIndex index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else {
      throw HarnessError.badShard(text)
    }
    self.init(uncheckedIndex: i, count: n)
  }

  public func contains(runIndex j: Int) -> Bool { j % count == index - 1 }

  public func select<T>(_ runs: [T]) -> [T] {
    runs.enumerated().filter { contains(runIndex: $0.offset) }.map(\.element)
  }

  public var description: String { "\(index)/\(count)" }
}
