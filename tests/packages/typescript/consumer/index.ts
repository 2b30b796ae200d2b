// A program of an @memrpc/client user, compiled against the package's .d.ts:
// UpdateSession, AppendTurns, GetSession.
//   node dist/index.js TARGET NAMESPACE THREAD
import {
  AppendTurnsRequest,
  GetSessionRequest,
  UpdateSessionRequest,
  WorkingMemoryClient,
  grpc,
  unaryCall,
} from "@memrpc/client";

async function main(): Promise<void> {
  const [target, namespace, threadId] = process.argv.slice(2);
  const client = new WorkingMemoryClient(target, grpc.credentials.createInsecure());
  const deadline = () => ({ deadline: Date.now() + 10_000 });
  try {
    await unaryCall(
      client.updateSession.bind(client),
      UpdateSessionRequest.fromPartial({
        namespace,
        threadId,
        session: { goal: "installed typescript package" },
        updateMask: ["goal"],
      }),
      deadline(),
    );
    await unaryCall(
      client.appendTurns.bind(client),
      AppendTurnsRequest.fromPartial({
        namespace,
        threadId,
        turns: [{ role: "user", content: "hello from the typescript package" }],
      }),
      deadline(),
    );
    const { session } = await unaryCall(
      client.getSession.bind(client),
      GetSessionRequest.fromPartial({ namespace, threadId }),
      deadline(),
    );
    if (session?.goal !== "installed typescript package" || session.turns.length !== 1) {
      throw new Error(`unexpected session: ${JSON.stringify(session)}`);
    }
    console.log(`typescript: @memrpc/client from ${require.resolve("@memrpc/client")}: version ${session.version}`);
  } finally {
    client.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
