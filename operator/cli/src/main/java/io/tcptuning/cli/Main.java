package io.tcptuning.cli;


import io.tcptuning.node.IoErrors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
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
  /** Exit code of a revert that left sysctls changed by hand since apply as they are. */
  public static final int EXIT_CHANGED_BY_HAND = 3;

  /** Every command, by name; each is made only when it is used. */
  private static final Map<String, Supplier<Object>> COMMANDS = commands();

  private static Map<String, Supplier<Object>> commands() {
    Map<String, Supplier<Object>> all = new LinkedHashMap<>();
    all.put("census", CensusCommand::new);
    all.put("plan", PlanCommand::new);
    all.put("apply", ApplyCommand::new);
    all.put("revert", RevertCommand::new);
    all.put("agent", AgentCommand::new);
    all.put("operator", OperatorCommand::new);
    return all;
  }

  /** The whole command line, every subcommand in it (for help and tests). */
  public static CommandLine commandLine() {
    CommandLine cmd = new CommandLine(new Main());
    COMMANDS.values().forEach(c -> cmd.addSubcommand(c.get()));
    return withErrorHandlers(cmd);
  }

  /**
   * The command line for these arguments: when the first names a command, only that one is
   * modelled. picocli builds its model by reflection, interpreted (its old class files stay out
   * of the AOT cache), and six models cost a one-shot {@code census} most of its start-up.
   */
  static CommandLine commandLine(String... args) {
    Supplier<Object> only = args.length > 0 ? COMMANDS.get(args[0]) : null;
    if (only == null) {
      return commandLine();
    }
    CommandLine cmd = new CommandLine(new Main());
    cmd.addSubcommand(only.get());
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
    System.exit(commandLine(args).execute(args));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"tcptune " + (v == null ? "dev" : v)};
    }
  }
}
