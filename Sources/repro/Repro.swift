import ArgumentParser
import Experiments
import ML

/// The command-line tool. Each subcommand lives in its own file; this one only lists them.
@main
struct Repro: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repro",
    abstract: "Reproduce the figures and tables of Gilmer et al. (ICLR 2022) on a CPU.",
    discussion: "Experiments (repro <id> --small): " + ExperimentRegistry.all.map(\.id).joined(separator: ", ") + ".",
    subcommands: [
      List.self,
      RunExperiment.self,
      All.self,
      Render.self,
      Check.self,
      Bench.self,
      DataCommand.self,
      Gallery.self,
      Hessian.self,
    ],
    defaultSubcommand: RunExperiment.self)

  /// OpenBLAS may have picked old kernels on a CPU it does not recognize (`BLASCore`): correct
  /// that first (by restarting with OPENBLAS_CORETYPE set), then run the command.
  static func main() {
    BLASCore.correctMisdetection()
    main(nil)
  }
}
