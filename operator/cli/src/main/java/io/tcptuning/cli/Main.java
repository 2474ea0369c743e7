package io.tcptuning.cli;


import java.util.LinkedHashMap;
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
    return cmd;
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
