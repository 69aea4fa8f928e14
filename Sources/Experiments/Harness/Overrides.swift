/// A configuration field that `--set key=value` can override, with its parser.
public struct ConfigField<C> {
  public let name: String
  public let expected: String
  let set: (inout C, String) -> Bool
  let get: (C) -> String

  /// An integer in `range` (the range is part of the error a bad value gets).
  public static func int(_ name: String, _ kp: WritableKeyPath<C, Int>, in range: ClosedRange<Int>) -> ConfigField {
    ConfigField(name: name, expected: "an integer in \(describe(range))", set: { c, v in
      guard let x = Int(v), range.contains(x) else { return false }
      c[keyPath: kp] = x
      return true
    }, get: { "\($0[keyPath: kp])" })
  }

  public static func bool(_ name: String, _ kp: WritableKeyPath<C, Bool>) -> ConfigField {
    ConfigField(name: name, expected: "true or false", set: { c, v in
      guard let x = Bool(v) else { return false }
      c[keyPath: kp] = x
      return true
    }, get: { "\($0[keyPath: kp])" })
  }

  /// A finite number in `range`; `open` excludes the bounds named (e.g. momentum in [0, 1)).
  public static func double(_ name: String, _ kp: WritableKeyPath<C, Double>, in range: ClosedRange<Double>,
                            excluding open: Set<Double> = []) -> ConfigField {
    ConfigField(name: name, expected: "a number in \(describe(range, excluding: open))", set: { c, v in
      guard let x = Double(v), x.isFinite, range.contains(x), !open.contains(x) else { return false }
      c[keyPath: kp] = x
      return true
    }, get: { "\($0[keyPath: kp])" })
  }

  public static func doubles(_ name: String, _ kp: WritableKeyPath<C, [Double]>, in range: ClosedRange<Double>,
                             excluding open: Set<Double> = []) -> ConfigField {
    ConfigField(name: name, expected: "comma-separated numbers, each in \(describe(range, excluding: open))", set: { c, v in
      let xs = v.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
      guard !xs.isEmpty, xs.allSatisfy({ x in x.map { $0.isFinite && range.contains($0) && !open.contains($0) } ?? false }) else { return false }
      c[keyPath: kp] = xs.compactMap { $0 }
      return true
    }, get: { $0[keyPath: kp].map { "\($0)" }.joined(separator: ",") })
  }

  public static func ints(_ name: String, _ kp: WritableKeyPath<C, [Int]>, in range: ClosedRange<Int>) -> ConfigField {
    ConfigField(name: name, expected: "comma-separated integers, each in \(describe(range))", set: { c, v in
      let xs = v.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
      guard !xs.isEmpty, xs.allSatisfy({ x in x.map { range.contains($0) } ?? false }) else { return false }
      c[keyPath: kp] = xs.compactMap { $0 }
      return true
    }, get: { $0[keyPath: kp].map { "\($0)" }.joined(separator: ",") })
  }

  /// Comma-separated names, each accepted by `valid`.
  public static func strings(_ name: String, _ kp: WritableKeyPath<C, [String]>, expected: String,
                             valid: @escaping (String) -> Bool) -> ConfigField {
    ConfigField(name: name, expected: expected, set: { c, v in
      let xs = v.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
      guard !xs.isEmpty, xs.allSatisfy(valid) else { return false }
      c[keyPath: kp] = xs
      return true
    }, get: { $0[keyPath: kp].joined(separator: ",") })
  }

  /// One name accepted by `valid`.
  public static func string(_ name: String, _ kp: WritableKeyPath<C, String>, expected: String,
                            valid: @escaping (String) -> Bool) -> ConfigField {
    ConfigField(name: name, expected: expected, set: { c, v in
      let x = v.trimmingCharacters(in: .whitespaces)
      guard valid(x) else { return false }
      c[keyPath: kp] = x
      return true
    }, get: { $0[keyPath: kp] })
  }

  public static func string(_ name: String, _ kp: WritableKeyPath<C, String>, allowed: [String]) -> ConfigField {
    ConfigField(name: name, expected: "one of \(allowed.joined(separator: ", "))", set: { c, v in
      guard allowed.contains(v) else { return false }
      c[keyPath: kp] = v
      return true
    }, get: { $0[keyPath: kp] })
  }
}

/// `1…1000`, `[0, 1)`: a range as the error messages print it.
func describe(_ r: ClosedRange<Int>) -> String { "\(r.lowerBound)…\(r.upperBound)" }

func describe(_ r: ClosedRange<Double>, excluding open: Set<Double> = []) -> String {
  "\(open.contains(r.lowerBound) ? "(" : "[")\(format(r.lowerBound)), \(format(r.upperBound))\(open.contains(r.upperBound) ? ")" : "]")"
}

private func format(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)" }

/// A configuration whose fields can be overridden by name from the command line (init2winit's
/// `hparam_overrides`, which also rejects unknown keys).
public protocol Overridable {
  static var fields: [ConfigField<Self>] { get }
}

extension Overridable {
  /// Applies `key=value` strings in order. An unknown key or an unparsable value is an error
  /// naming the valid keys or the expected type.
  public mutating func apply(overrides: [String]) throws {
    let fields = Self.fields
    for item in overrides {
      guard let eq = item.firstIndex(of: "=") else {
        throw HarnessError.badValue(key: item, value: "", expected: "key=value")
      }
      let key = String(item[..<eq]).trimmingCharacters(in: .whitespaces)
      let value = String(item[item.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
      guard let field = fields.first(where: { $0.name == key }) else {
        throw HarnessError.unknownKey(key, valid: fields.map(\.name).sorted())
      }
      guard field.set(&self, value) else { throw HarnessError.badValue(key: key, value: value, expected: field.expected) }
    }
  }

  /// Every field and its current value, for `repro list --verbose` and run records.
  public var fieldValues: [(name: String, value: String)] { Self.fields.map { ($0.name, $0.get(self)) } }
}

import Foundation
