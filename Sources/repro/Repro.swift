import ArgumentParser

/// The command-line tool. Each subcommand lives in its own file; this one only lists them.
@main
struct Repro: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repro",
    abstract: "Reproduce the figures and tables of Gilmer et al. (ICLR 2022) on a CPU.",
    subcommands: [
      List.self,
      Fig1Command.self,
      Fig2Command.self,
      Fig3Command.self,
      All.self,
      Render.self,
      Check.self,
      Bench.self,
      DataCommand.self,
      Gallery.self,
      Hessian.self,
    ])
}
