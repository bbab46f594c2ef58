/*
 * Runs DynamoDB Local (its ServerRunner, same arguments) and exits as soon as
 * standard input reaches end of file. The local stack starts it with a pipe
 * as stdin and never writes to it: when the stack's process ends in any way
 * (even SIGKILL), the pipe closes and DynamoDB Local goes with it, so no
 * `java` outlives the stack. Run with Java's single-file source launcher:
 *   java -cp DynamoDBLocal.jar local/DynamoDbLocalWatchdog.java -inMemory -port 8000
 * See local/services.ts.
 */
public class DynamoDbLocalWatchdog {
  public static void main(String[] args) throws Exception {
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // The parent never writes; anything read is ignored.
        }
      } catch (java.io.IOException e) {
        // A broken pipe means the same as end of file: the parent is gone.
      }
      Runtime.getRuntime().halt(0);
    }, "exit-with-parent");
    watchdog.setDaemon(true);
    watchdog.start();
    software.amazon.dynamodb.services.local.main.ServerRunner.main(args);
  }
}
