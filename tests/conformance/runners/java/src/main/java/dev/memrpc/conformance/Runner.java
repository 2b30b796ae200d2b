package dev.memrpc.conformance;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.reflect.TypeToken;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.ErrorInfo;
import dev.memrpc.client.MemrpcErrors;
import dev.memrpc.v1.EventLogGrpc;
import dev.memrpc.v1.EventLogProto;
import dev.memrpc.v1.LongTermMemoryGrpc;
import dev.memrpc.v1.LongTermMemoryProto;
import dev.memrpc.v1.NamespaceSettingsProto;
import dev.memrpc.v1.NamespacesGrpc;
import dev.memrpc.v1.TailEventsRequest;
import dev.memrpc.v1.TailEventsResponse;
import dev.memrpc.v1.WorkingMemoryGrpc;
import dev.memrpc.v1.WorkingMemoryProto;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Java conformance runner: runs a scenario with the generated Java client (clients/java)
 * against a live memrpc server. Mirrors runners/python/runner.py; the format is described in
 * tests/conformance/README.md.
 *
 * <p>Usage: {@code run --target HOST:PORT --scenario FILE [--var NAME=VALUE]... [--service-config
 * FILE]}; {@code run} passes the published service config, {@code clients/service-config.json},
 * which the channel then uses.
 */
public final class Runner {
  private static final long NEXT_TIMEOUT_S = 10;
  private static final long CALL_TIMEOUT_S = 30;
  private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z0-9_]+)\\}");
  private static final Gson GSON =
      new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

  /** A step's outcome differs from its expectation. */
  static final class StepFailed extends Exception {
    private static final long serialVersionUID = 1L;

    StepFailed(String message) {
      super(message);
    }
  }

  /** A unary method: the default instance of its request type and the typed stub call. */
  private record Unary(Message requestPrototype, Function<Message, Message> call) {}

  private final Map<String, String> variables;
  private final Map<String, Unary> methods = new HashMap<>();
  private final Map<String, Tail> tails = new HashMap<>();
  private final EventLogGrpc.EventLogStub eventLogAsync;

  Runner(ManagedChannel channel, Map<String, String> variables) {
    this.variables = variables;
    var workingMemory = WorkingMemoryGrpc.newBlockingStub(channel);
    var longTermMemory = LongTermMemoryGrpc.newBlockingStub(channel);
    var eventLog = EventLogGrpc.newBlockingStub(channel);
    var namespaces = NamespacesGrpc.newBlockingStub(channel);
    eventLogAsync = EventLogGrpc.newStub(channel);

    // The dispatch table: "memrpc.v1.Service/Method" -> the typed blocking stub call.
    unary(WorkingMemoryGrpc.getGetSessionMethod(), r -> timed(workingMemory).getSession(r));
    unary(WorkingMemoryGrpc.getUpdateSessionMethod(), r -> timed(workingMemory).updateSession(r));
    unary(WorkingMemoryGrpc.getAppendTurnsMethod(), r -> timed(workingMemory).appendTurns(r));
    unary(WorkingMemoryGrpc.getDeleteSessionMethod(), r -> timed(workingMemory).deleteSession(r));
    unary(WorkingMemoryGrpc.getListSessionsMethod(), r -> timed(workingMemory).listSessions(r));
    unary(WorkingMemoryGrpc.getGetContextMethod(), r -> timed(workingMemory).getContext(r));

    unary(
        LongTermMemoryGrpc.getCreateMemoriesMethod(),
        r -> timed(longTermMemory).createMemories(r));
    unary(
        LongTermMemoryGrpc.getSearchMemoriesMethod(),
        r -> timed(longTermMemory).searchMemories(r));
    unary(LongTermMemoryGrpc.getGetMemoryMethod(), r -> timed(longTermMemory).getMemory(r));
    unary(LongTermMemoryGrpc.getUpdateMemoryMethod(), r -> timed(longTermMemory).updateMemory(r));
    unary(LongTermMemoryGrpc.getDeleteMemoryMethod(), r -> timed(longTermMemory).deleteMemory(r));
    unary(
        LongTermMemoryGrpc.getDeleteMemoriesMethod(),
        r -> timed(longTermMemory).deleteMemories(r));
    unary(LongTermMemoryGrpc.getListMemoriesMethod(), r -> timed(longTermMemory).listMemories(r));

    unary(EventLogGrpc.getAppendEventsMethod(), r -> timed(eventLog).appendEvents(r));
    unary(EventLogGrpc.getListEventsMethod(), r -> timed(eventLog).listEvents(r));
    unary(EventLogGrpc.getTrimEventsMethod(), r -> timed(eventLog).trimEvents(r));
    unary(
        EventLogGrpc.getCreateConsumerGroupMethod(), r -> timed(eventLog).createConsumerGroup(r));
    unary(
        EventLogGrpc.getDeleteConsumerGroupMethod(), r -> timed(eventLog).deleteConsumerGroup(r));
    unary(EventLogGrpc.getReceiveEventsMethod(), r -> timed(eventLog).receiveEvents(r));
    unary(EventLogGrpc.getAcknowledgeEventsMethod(), r -> timed(eventLog).acknowledgeEvents(r));
    // TailEvents, the one streaming method, is run by the "tail" steps.

    unary(
        NamespacesGrpc.getGetNamespaceSettingsMethod(),
        r -> timed(namespaces).getNamespaceSettings(r));
    unary(
        NamespacesGrpc.getUpdateNamespaceSettingsMethod(),
        r -> timed(namespaces).updateNamespaceSettings(r));

    checkTableIsComplete();
  }

  private static <S extends AbstractStub<S>> S timed(S stub) {
    return stub.withDeadlineAfter(CALL_TIMEOUT_S, TimeUnit.SECONDS);
  }

  @SuppressWarnings("unchecked")
  private <Q extends Message, R extends Message> void unary(
      io.grpc.MethodDescriptor<Q, R> method, Function<Q, R> call) {
    var marshaller =
        (io.grpc.MethodDescriptor.PrototypeMarshaller<Q>) method.getRequestMarshaller();
    methods.put(
        method.getFullMethodName(),
        new Unary(marshaller.getMessagePrototype(), request -> call.apply((Q) request)));
  }

  /** Every unary method of the services must be in the dispatch table. */
  private void checkTableIsComplete() {
    List<String> missing = new ArrayList<>();
    for (var file :
        List.of(
            WorkingMemoryProto.getDescriptor(),
            LongTermMemoryProto.getDescriptor(),
            EventLogProto.getDescriptor(),
            NamespaceSettingsProto.getDescriptor())) {
      for (ServiceDescriptor service : file.getServices()) {
        for (MethodDescriptor method : service.getMethods()) {
          String name = service.getFullName() + "/" + method.getName();
          if (!method.isServerStreaming() && !methods.containsKey(name)) {
            missing.add(name);
          }
        }
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("dispatch table lacks " + missing);
    }
  }

  // ---------------------------------------------------------------- variables and matching

  /** {@code value} with every {@code ${name}} in its strings replaced (object keys are kept). */
  JsonElement substitute(JsonElement value) throws StepFailed {
    if (value.isJsonPrimitive() && value.getAsJsonPrimitive().isString()) {
      Matcher m = VAR.matcher(value.getAsString());
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        String replacement = variables.get(m.group(1));
        if (replacement == null) {
          throw new StepFailed("unknown variable ${" + m.group(1) + "}");
        }
        m.appendReplacement(out, Matcher.quoteReplacement(replacement));
      }
      m.appendTail(out);
      return new JsonPrimitive(out.toString());
    }
    if (value.isJsonArray()) {
      JsonArray out = new JsonArray();
      for (JsonElement item : value.getAsJsonArray()) {
        out.add(substitute(item));
      }
      return out;
    }
    if (value.isJsonObject()) {
      JsonObject out = new JsonObject();
      for (var entry : value.getAsJsonObject().entrySet()) {
        out.add(entry.getKey(), substitute(entry.getValue()));
      }
      return out;
    }
    return value;
  }

  private static String shown(JsonElement actual) {
    return actual == null ? "absent" : GSON.toJson(actual);
  }

  private static boolean isString(JsonElement e) {
    return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
  }

  private static boolean isNumber(JsonElement e) {
    return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber();
  }

  private static boolean isEmptyValue(JsonElement e) {
    if (e.isJsonNull()) {
      return true;
    }
    if (e.isJsonArray()) {
      return e.getAsJsonArray().isEmpty();
    }
    if (e.isJsonObject()) {
      return e.getAsJsonObject().size() == 0;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return !p.getAsBoolean();
    }
    if (p.isNumber()) {
      return p.getAsBigDecimal().signum() == 0;
    }
    return p.getAsString().isEmpty() || p.getAsString().equals("0");
  }

  /**
   * Fails unless {@code actual} (canonical JSON; {@code null} when absent) satisfies {@code
   * expected}.
   */
  static void match(JsonElement expected, JsonElement actual, String path) throws StepFailed {
    String where = path.isEmpty() ? "response" : path;
    if (isString(expected) && expected.getAsString().startsWith("$")) {
      String matcher = expected.getAsString();
      boolean ok;
      if (matcher.equals("$any")) {
        ok = actual != null;
      } else if (matcher.equals("$absent")) {
        ok = actual == null;
      } else if (matcher.equals("$nonempty")) {
        ok = actual != null && !isEmptyValue(actual);
      } else if (matcher.startsWith("$lte:") || matcher.startsWith("$gte:")) {
        double number;
        double bound;
        try {
          bound = Double.parseDouble(matcher.substring(5));
          number =
              actual == null
                  ? 0.0
                  : (isNumber(actual) || isString(actual))
                      ? Double.parseDouble(actual.getAsString())
                      : Double.NaN;
        } catch (NumberFormatException e) {
          throw new StepFailed(where + ": " + matcher + " needs numbers, got " + shown(actual));
        }
        if (Double.isNaN(number)) {
          throw new StepFailed(where + ": " + matcher + " needs a number, got " + shown(actual));
        }
        ok = matcher.startsWith("$lte:") ? number <= bound : number >= bound;
      } else {
        throw new StepFailed(where + ": unknown matcher \"" + matcher + "\"");
      }
      if (!ok) {
        throw new StepFailed(where + ": expected " + matcher + ", got " + shown(actual));
      }
      return;
    }
    if (expected.isJsonObject()) {
      if (actual == null || !actual.isJsonObject()) {
        throw new StepFailed(where + ": expected an object, got " + shown(actual));
      }
      for (var entry : expected.getAsJsonObject().entrySet()) {
        String key = entry.getKey();
        match(
            entry.getValue(),
            actual.getAsJsonObject().get(key),
            path.isEmpty() ? key : path + "." + key);
      }
      return;
    }
    if (expected.isJsonArray()) {
      JsonArray want = expected.getAsJsonArray();
      if (actual == null
          || !actual.isJsonArray()
          || actual.getAsJsonArray().size() != want.size()) {
        throw new StepFailed(
            where + ": expected " + want.size() + " items, got " + shown(actual));
      }
      JsonArray got = actual.getAsJsonArray();
      for (int i = 0; i < want.size(); i++) {
        match(want.get(i), got.get(i), path + "." + i);
      }
      return;
    }
    boolean ok;
    if (isNumber(expected)) {
      ok =
          isNumber(actual)
              && expected.getAsBigDecimal().compareTo(actual.getAsBigDecimal()) == 0;
    } else if (expected.isJsonNull()) {
      ok = actual != null && actual.isJsonNull();
    } else if (isString(expected)) {
      ok = isString(actual) && expected.getAsString().equals(actual.getAsString());
    } else { // a boolean
      ok =
          actual != null
              && actual.isJsonPrimitive()
              && actual.getAsJsonPrimitive().isBoolean()
              && expected.getAsBoolean() == actual.getAsBoolean();
    }
    if (!ok) {
      throw new StepFailed(
          where + ": expected " + GSON.toJson(expected) + ", got " + shown(actual));
    }
  }

  /** The value at a dotted path ({@code results.0.memory.id}), as a string. */
  static String lookup(JsonElement document, String path) throws StepFailed {
    JsonElement value = document;
    for (String part : path.split("\\.", -1)) {
      JsonElement next = null;
      if (value != null && value.isJsonArray()) {
        try {
          int index = Integer.parseInt(part);
          if (index >= 0 && index < value.getAsJsonArray().size()) {
            next = value.getAsJsonArray().get(index);
          }
        } catch (NumberFormatException e) {
          next = null;
        }
      } else if (value != null && value.isJsonObject()) {
        next = value.getAsJsonObject().get(part);
      }
      if (next == null) {
        throw new StepFailed("save: nothing at " + path + " (at \"" + part + "\")");
      }
      value = next;
    }
    return isString(value) ? value.getAsString() : GSON.toJson(value);
  }

  // ---------------------------------------------------------------- steps

  private static JsonObject object(JsonObject step, String key) {
    JsonElement value = step.get(key);
    return value != null && value.isJsonObject() ? value.getAsJsonObject() : new JsonObject();
  }

  private Message request(JsonObject step, Message prototype) throws StepFailed {
    Message.Builder builder = prototype.newBuilderForType();
    String json = GSON.toJson(substitute(object(step, "request")));
    try {
      JsonFormat.parser().merge(json, builder);
    } catch (InvalidProtocolBufferException e) {
      throw new StepFailed(
          "request is not a valid "
              + prototype.getDescriptorForType().getFullName()
              + ": "
              + e.getMessage());
    }
    return builder.build();
  }

  private void check(JsonObject step, Message response) throws StepFailed {
    JsonElement actual;
    try {
      actual = JsonParser.parseString(JsonFormat.printer().print(response));
    } catch (InvalidProtocolBufferException e) {
      throw new StepFailed("response has no JSON form: " + e.getMessage());
    }
    JsonElement expected = object(step, "expect").get("response");
    if (expected != null) {
      match(substitute(expected), actual, "");
    }
    save(step, actual);
  }

  private void save(JsonObject step, JsonElement document) throws StepFailed {
    for (var entry : object(step, "save").entrySet()) {
      variables.put(entry.getKey(), lookup(document, entry.getValue().getAsString()));
    }
  }

  /** The step's expected status code name ({@code OK} when absent). */
  private static String expectedCode(JsonObject step) {
    JsonObject expect = object(step, "expect");
    return expect.has("code") ? expect.get("code").getAsString() : "OK";
  }

  /**
   * Checks a failed call (or a stream's end) against the step, in the README's order: the code,
   * the BadRequest field, the ErrorInfo's reason and metadata; then saves from {@code
   * {"errorMetadata": {...}}}.
   */
  private void checkFailure(JsonObject step, Throwable error) throws StepFailed {
    Status status = Status.fromThrowable(error);
    String code = expectedCode(step);
    if (!status.getCode().name().equals(code)) {
      throw new StepFailed(
          "expected " + code + ", got " + status.getCode().name() + ": "
              + status.getDescription());
    }
    JsonObject expect = object(step, "expect");
    if (expect.has("field")) {
      String field = expect.get("field").getAsString();
      List<String> fields = MemrpcErrors.badRequestFields(error);
      if (!fields.contains(field)) {
        throw new StepFailed("expected BadRequest field '" + field + "', got " + fields);
      }
    }
    Optional<ErrorInfo> info = MemrpcErrors.errorInfo(error);
    if ((expect.has("reason") || expect.has("errorMetadata")) && info.isEmpty()) {
      throw new StepFailed(
          "expected an ErrorInfo of domain " + MemrpcErrors.DOMAIN + ", got none ("
              + status.getCode().name() + ": " + status.getDescription() + ")");
    }
    // The reason as the client's helper reads it, the generated enum (the
    // scenario names only reasons of the proto).
    if (expect.has("reason")) {
      String reason = expect.get("reason").getAsString();
      if (!reason.equals(MemrpcErrors.reason(error).name())) {
        throw new StepFailed(
            "expected reason " + reason + ", got " + info.get().getReason() + ": "
                + status.getDescription());
      }
    }
    JsonObject metadata = new JsonObject();
    info.ifPresent(i -> i.getMetadataMap().forEach(metadata::addProperty));
    if (expect.has("errorMetadata")) {
      match(substitute(expect.get("errorMetadata")), metadata, "errorMetadata");
    }
    JsonObject document = new JsonObject();
    document.add("errorMetadata", metadata);
    save(step, document);
  }

  void runStep(JsonObject step) throws StepFailed, InterruptedException {
    if (step.has("sleep_ms")) {
      Thread.sleep((long) step.get("sleep_ms").getAsDouble());
    } else if (step.has("tail")) {
      runTail(step);
    } else {
      runCall(step);
    }
  }

  private void runCall(JsonObject step) throws StepFailed {
    String name = step.has("call") ? step.get("call").getAsString() : "";
    Unary method = methods.get(name);
    if (method == null) {
      throw new StepFailed("unknown call \"" + name + "\"");
    }
    String code = expectedCode(step);
    Message response;
    try {
      response = method.call().apply(request(step, method.requestPrototype()));
    } catch (StatusRuntimeException err) {
      checkFailure(step, err);
      return;
    }
    if (!code.equals("OK")) {
      throw new StepFailed("expected " + code + ", got OK");
    }
    check(step, response);
  }

  private void runTail(JsonObject step) throws StepFailed, InterruptedException {
    String action = step.get("tail").getAsString();
    String stream = step.has("stream") ? step.get("stream").getAsString() : "";
    switch (action) {
      case "open" -> {
        var request =
            (TailEventsRequest) request(step, TailEventsRequest.getDefaultInstance());
        Tail tail = new Tail();
        Tail previous = tails.put(stream, tail);
        if (previous != null) {
          previous.close();
        }
        eventLogAsync.tailEvents(request, tail);
      }
      case "next" -> {
        Tail tail = tails.get(stream);
        if (tail == null) {
          throw new StepFailed("no open stream \"" + stream + "\"");
        }
        nextOf(step, tail);
      }
      case "close" -> {
        Tail tail = tails.remove(stream);
        if (tail == null) {
          throw new StepFailed("no open stream \"" + stream + "\"");
        }
        tail.close();
      }
      default -> throw new StepFailed("unknown tail action \"" + action + "\"");
    }
  }

  /**
   * A {@code tail next} step: the stream's next message, matched like a response; or, when the
   * step expects a non-OK code, the status the stream ends with, checked like a failed call.
   */
  private void nextOf(JsonObject step, Tail tail) throws StepFailed, InterruptedException {
    String code = expectedCode(step);
    Object item = tail.next();
    if (item instanceof TailEventsResponse message) {
      if (!code.equals("OK")) {
        throw new StepFailed(
            "expected the stream to end with " + code + ", got a message: "
                + GSON.toJson(JsonParser.parseString(printed(message))));
      }
      check(step, message);
    } else if (item instanceof Throwable error) {
      if (code.equals("OK")) {
        Status status = Status.fromThrowable(error);
        throw new StepFailed(
            "stream failed: " + status.getCode().name() + ": " + status.getDescription());
      }
      checkFailure(step, error);
    } else {
      throw new StepFailed(
          code.equals("OK")
              ? "stream ended (OK) before a message"
              : "expected the stream to end with " + code + ", it ended OK");
    }
  }

  private static String printed(Message message) throws StepFailed {
    try {
      return JsonFormat.printer().print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new StepFailed("message has no JSON form: " + e.getMessage());
    }
  }

  void closeAll() {
    tails.values().forEach(Tail::close);
    tails.clear();
  }

  /** A TailEvents call whose messages are queued, so that {@code next} can time out. */
  private static final class Tail
      implements ClientResponseObserver<TailEventsRequest, TailEventsResponse> {
    private static final Object END = new Object();
    private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
    private volatile ClientCallStreamObserver<TailEventsRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<TailEventsRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(TailEventsResponse message) {
      items.add(message);
    }

    @Override
    public void onError(Throwable error) {
      items.add(error);
    }

    @Override
    public void onCompleted() {
      items.add(END);
    }

    /**
     * The next item within {@code NEXT_TIMEOUT_S}: a {@link TailEventsResponse}, the {@link
     * Throwable} the stream failed with, or {@code END} (it ended OK). Once the stream is over,
     * every later call returns how it ended.
     */
    Object next() throws StepFailed, InterruptedException {
      Object item = items.poll(NEXT_TIMEOUT_S, TimeUnit.SECONDS);
      if (item == null) {
        throw new StepFailed("no message within " + NEXT_TIMEOUT_S + " s");
      }
      if (!(item instanceof TailEventsResponse)) {
        items.add(item);
      }
      return item;
    }

    void close() {
      ClientCallStreamObserver<TailEventsRequest> c = call;
      if (c != null) {
        c.cancel("closed by the scenario", null);
      }
    }
  }

  // ---------------------------------------------------------------- main

  private static int usage(PrintStream err, String problem) {
    err.println("run: " + problem);
    err.println(
        "usage: run --target HOST:PORT --scenario FILE [--var NAME=VALUE]... "
            + "[--service-config FILE]");
    return 2;
  }

  static int main(String[] args, PrintStream out, PrintStream err) throws Exception {
    String target = null;
    String scenario = null;
    String serviceConfig = null;
    Map<String, String> variables = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String value;
      String flag;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      } else {
        flag = arg;
        if (i + 1 >= args.length) {
          return usage(err, "missing value for " + arg);
        }
        value = args[++i];
      }
      switch (flag) {
        case "--target" -> target = value;
        case "--scenario" -> scenario = value;
        case "--service-config" -> serviceConfig = value;
        case "--var" -> {
          int split = value.indexOf('=');
          if (split < 0) {
            return usage(err, "--var needs NAME=VALUE, got " + value);
          }
          variables.put(value.substring(0, split), value.substring(split + 1));
        }
        default -> {
          return usage(err, "unknown argument " + arg);
        }
      }
    }
    if (target == null || scenario == null) {
      return usage(err, "--target and --scenario are required");
    }
    JsonArray steps;
    try {
      steps =
          JsonParser.parseString(Files.readString(Path.of(scenario), StandardCharsets.UTF_8))
              .getAsJsonObject()
              .getAsJsonArray("steps");
    } catch (IOException | RuntimeException e) {
      err.println("run: cannot read scenario " + scenario + ": " + e);
      return 2;
    }

    ManagedChannelBuilder<?> builder = ManagedChannelBuilder.forTarget(target).usePlaintext();
    if (serviceConfig != null) {
      try {
        // Gson gives the Maps, Lists and Doubles that grpc-java takes.
        Map<String, ?> config =
            GSON.fromJson(
                Files.readString(Path.of(serviceConfig), StandardCharsets.UTF_8),
                new TypeToken<Map<String, Object>>() {}.getType());
        builder.defaultServiceConfig(config).enableRetry();
      } catch (IOException | RuntimeException e) {
        err.println("run: cannot read service config " + serviceConfig + ": " + e);
        return 2;
      }
    }

    int passed = 0;
    int failed = 0;
    ManagedChannel channel = builder.build();
    try {
      Runner runner = new Runner(channel, variables);
      try {
        for (JsonElement element : steps) {
          JsonObject step = element.getAsJsonObject();
          String name = step.has("name") ? step.get("name").getAsString() : "(unnamed)";
          String failure = null;
          try {
            runner.runStep(step);
          } catch (StepFailed e) {
            failure = e.getMessage();
          } catch (StatusRuntimeException e) {
            failure = "unexpected status " + e.getStatus();
          } catch (RuntimeException e) {
            failure = "runner error: " + e;
          }
          if (failure == null) {
            passed++;
            out.println("PASS " + name);
          } else {
            failed++;
            out.println("FAIL " + name + ": " + failure);
          }
        }
      } finally {
        runner.closeAll();
      }
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    out.println("conformance: " + passed + " passed, " + failed + " failed");
    return failed == 0 ? 0 : 1;
  }

  public static void main(String[] args) throws Exception {
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    PrintStream err =
        new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
    int code = main(args, out, err);
    out.flush();
    err.flush();
    System.exit(code);
  }
}
