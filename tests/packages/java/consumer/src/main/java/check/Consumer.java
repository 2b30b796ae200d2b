package check;

import com.google.protobuf.FieldMask;
import dev.memrpc.v1.AppendTurnsRequest;
import dev.memrpc.v1.GetSessionRequest;
import dev.memrpc.v1.Session;
import dev.memrpc.v1.SessionInput;
import dev.memrpc.v1.TurnInput;
import dev.memrpc.v1.UpdateSessionRequest;
import dev.memrpc.v1.WorkingMemoryGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;

/** A program of a memrpc Java client user: UpdateSession, AppendTurns, GetSession. */
public final class Consumer {
  private Consumer() {}

  public static void main(String[] args) throws InterruptedException {
    String target = args[0];
    String namespace = args[1];
    String thread = args[2];
    ManagedChannel channel =
        Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    try {
      WorkingMemoryGrpc.WorkingMemoryBlockingStub stub =
          WorkingMemoryGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      stub.updateSession(
          UpdateSessionRequest.newBuilder()
              .setNamespace(namespace)
              .setThreadId(thread)
              .setSession(SessionInput.newBuilder().setGoal("installed java package"))
              .setUpdateMask(FieldMask.newBuilder().addPaths("goal"))
              .build());
      stub.appendTurns(
          AppendTurnsRequest.newBuilder()
              .setNamespace(namespace)
              .setThreadId(thread)
              .addTurns(
                  TurnInput.newBuilder().setRole("user").setContent("hello from the java package"))
              .build());
      Session session =
          stub.getSession(
                  GetSessionRequest.newBuilder()
                      .setNamespace(namespace)
                      .setThreadId(thread)
                      .build())
              .getSession();
      if (!session.getGoal().equals("installed java package") || session.getTurnsCount() != 1) {
        throw new IllegalStateException("unexpected session: " + session);
      }
      String jar =
          WorkingMemoryGrpc.class.getProtectionDomain().getCodeSource().getLocation().toString();
      System.out.println("java: " + jar + ": session version " + session.getVersion());
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
