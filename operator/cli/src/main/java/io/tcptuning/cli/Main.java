package io.tcptuning.cli;


import io.tcptuning.node.IoErrors;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar tcptune.jar <command>}: the operator, the node agent, and the node commands
 * that work on one Linux machine without a cluster.
 */
@Command(
    name = "tcptune",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Measure TIME_WAIT pressure and apply safe TCP sysctls, on one machine or cluster-wide.")
public final class Main {

  /** Exit code of invalid input: nothing was written. */
  public static final int EXIT_INVALID = 2;
  /** Exit code of a failed write (what the run wrote was rolled back). */
  public static final int EXIT_FAILED = 1;

  public static CommandLine commandLine() {
    CommandLine cmd = new CommandLine(new Main());
    // Subcommands, one line each:
    cmd.addSubcommand(new CensusCommand());
    cmd.addSubcommand(new PlanCommand());
    cmd.addSubcommand(new ApplyCommand());
    cmd.addSubcommand(new RevertCommand());
    cmd.addSubcommand(new AgentCommand());
    cmd.addSubcommand(new OperatorCommand());
    return withErrorHandlers(cmd);
  }

  /**
   * Whatever escapes a command ends as {@code tcptune <command>: <what went wrong>} and exit 1,
   * never a stack trace; with {@code --json}, as a JSON error object (and bad options too, exit 2).
   * Set after the subcommands are added: picocli gives the handlers to those it has.
   */
  static CommandLine withErrorHandlers(CommandLine cmd) {
    cmd.setExecutionExceptionHandler((e, command, parsed) -> {
      boolean json = command.getParseResult() != null && command.getParseResult().hasMatchedOption("--json");
      return new ErrorOutput(command, json).fail(EXIT_FAILED, IoErrors.describe(e));
    });
    CommandLine.IParameterExceptionHandler usage = cmd.getParameterExceptionHandler();
    cmd.setParameterExceptionHandler((e, args) -> {
      if (!List.of(args).contains("--json")) {
        return usage.handleParseException(e, args);
      }
      CommandLine command = e.getCommandLine();
      return new ErrorOutput(command, true).fail(command.getCommandSpec().exitCodeOnInvalidInput(), e.getMessage());
    });
    return cmd;
  }

  public static void main(String[] args) {
    if (args.length == 1 && "agent".equals(args[0])) {
      // The DaemonSet's process is configured by environment only: it goes straight to the
      // agent, without the parser's model of every command (about a megabyte on every node).
      System.exit(runAgent());
    }
    System.exit(commandLine().execute(args));
  }

  private static int runAgent() {
    try {
      return new AgentCommand().call();
    } catch (Exception e) {
      System.err.println("tcptune agent: " + IoErrors.describe(e));
      return EXIT_FAILED;
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"tcptune " + (v == null ? "dev" : v)};
    }
  }
}
