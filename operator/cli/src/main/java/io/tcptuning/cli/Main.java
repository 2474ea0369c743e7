package io.tcptuning.cli;


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
      System.err.println("tcptune agent: " + e);
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
