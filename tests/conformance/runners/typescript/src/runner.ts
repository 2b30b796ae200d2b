/**
 * The TypeScript conformance runner: runs a scenario with the generated
 * TypeScript client (clients/typescript, ts-proto on @grpc/grpc-js) against a
 * live memrpc server. The format is described in tests/conformance/README.md;
 * tests/conformance/runners/python/runner.py is the reference.
 *
 *   node out/runner.js --target HOST:PORT --scenario FILE [--var NAME=VALUE]...
 *                      [--service-config FILE]
 *
 * Requests are parsed and responses printed with the proto3 JSON mapping that
 * ts-proto generates (`fromJSON` / `toJSON`), plus two small corrections where
 * ts-proto departs from proto3 JSON, both defined below: FieldMask paths of
 * requests are converted from lowerCamelCase to the proto's snake_case
 * (`snakeCaseMask`; no response holds a FieldMask), and a request key that
 * parsing dropped, or an enum name it did not know, fails the step
 * (`checkNothingIgnored`). Known and harmless here: `toJSON` prints Timestamp
 * fields to the millisecond (the server's precision) and float fields as the
 * double nearest to the float32.
 */
import { readFileSync } from "node:fs";

import {
  AcknowledgeEventsRequest,
  AcknowledgeEventsResponse,
  AppendEventsRequest,
  AppendEventsResponse,
  AppendTurnsRequest,
  AppendTurnsResponse,
  CreateConsumerGroupRequest,
  CreateConsumerGroupResponse,
  CreateMemoriesRequest,
  CreateMemoriesResponse,
  DeleteConsumerGroupRequest,
  DeleteConsumerGroupResponse,
  DeleteMemoriesRequest,
  DeleteMemoriesResponse,
  DeleteMemoryRequest,
  DeleteMemoryResponse,
  DeleteSessionRequest,
  DeleteSessionResponse,
  EventLogClient,
  EventLogService,
  GetContextRequest,
  GetContextResponse,
  GetMemoryRequest,
  GetMemoryResponse,
  GetNamespaceSettingsRequest,
  GetNamespaceSettingsResponse,
  GetSessionRequest,
  GetSessionResponse,
  ListEventsRequest,
  ListEventsResponse,
  ListMemoriesRequest,
  ListMemoriesResponse,
  ListSessionsRequest,
  ListSessionsResponse,
  LongTermMemoryClient,
  LongTermMemoryService,
  NamespacesClient,
  NamespacesService,
  ReceiveEventsRequest,
  ReceiveEventsResponse,
  SearchMemoriesRequest,
  SearchMemoriesResponse,
  TailEventsRequest,
  TailEventsResponse,
  TrimEventsRequest,
  TrimEventsResponse,
  UpdateMemoryRequest,
  UpdateMemoryResponse,
  UpdateNamespaceSettingsRequest,
  UpdateNamespaceSettingsResponse,
  UpdateSessionRequest,
  UpdateSessionResponse,
  WorkingMemoryClient,
  WorkingMemoryService,
  type UnaryMethod,
  ERROR_DOMAIN,
  errorInfo,
  fieldViolations,
  grpc,
  unaryCall,
} from "@memrpc/client";

const NEXT_TIMEOUT_MS = 10_000;
const CALL_TIMEOUT_MS = 30_000;
const VAR = /\$\{([A-Za-z0-9_]+)\}/g;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Step = { [key: string]: any };

/** A step's outcome differs from its expectation. */
class StepFailed extends Error {}

/** The absent value of the matching rules (a key missing in `actual`). */
const MISSING = Symbol("missing");
type Actual = Json | typeof MISSING;

function show(value: Actual): string {
  return value === MISSING ? "absent" : JSON.stringify(value);
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` with every `${name}` in its strings replaced. */
function substitute(value: Json, variables: Map<string, string>): Json {
  if (typeof value === "string") {
    return value.replace(VAR, (_, name: string) => {
      const found = variables.get(name);
      if (found === undefined) {
        throw new StepFailed(`unknown variable \${${name}}`);
      }
      return found;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item) => substitute(item, variables));
  }
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, variables)]));
  }
  return value;
}

/** Throws StepFailed unless `actual` (canonical JSON) satisfies `expected`. */
function match(expected: Json, actual: Actual, path = ""): void {
  const where = path || "response";
  if (typeof expected === "string" && expected.startsWith("$")) {
    let ok: boolean;
    if (expected === "$any") {
      ok = actual !== MISSING;
    } else if (expected === "$absent") {
      ok = actual === MISSING;
    } else if (expected === "$nonempty") {
      ok =
        actual !== MISSING &&
        actual !== null &&
        actual !== "" &&
        actual !== 0 &&
        actual !== "0" &&
        actual !== false &&
        !(Array.isArray(actual) && actual.length === 0) &&
        !(isObject(actual) && Object.keys(actual).length === 0);
    } else if (expected.startsWith("$lte:") || expected.startsWith("$gte:")) {
      const number = actual === MISSING ? 0 : Number(actual);
      const bound = Number(expected.slice(5));
      if (typeof actual !== "number" && typeof actual !== "string" && actual !== MISSING) {
        ok = false;
      } else {
        ok = expected.startsWith("$lte:") ? number <= bound : number >= bound;
      }
    } else {
      throw new StepFailed(`${where}: unknown matcher ${JSON.stringify(expected)}`);
    }
    if (!ok) {
      throw new StepFailed(`${where}: expected ${expected}, got ${show(actual)}`);
    }
    return;
  }
  if (isObject(expected)) {
    if (!isObject(actual)) {
      throw new StepFailed(`${where}: expected an object, got ${show(actual)}`);
    }
    for (const [key, value] of Object.entries(expected)) {
      match(value, Object.hasOwn(actual, key) ? actual[key] : MISSING, path ? `${path}.${key}` : key);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      throw new StepFailed(`${where}: expected ${expected.length} items, got ${show(actual)}`);
    }
    expected.forEach((want, i) => match(want, actual[i], `${path}.${i}`));
    return;
  }
  const ok =
    typeof expected === "number"
      ? typeof actual === "number" && actual === expected
      : actual !== MISSING && actual === expected;
  if (!ok) {
    throw new StepFailed(`${where}: expected ${JSON.stringify(expected)}, got ${show(actual)}`);
  }
}

/** The value at a dotted path (`results.0.memory.id`), as a string. */
function lookup(document: Json, path: string): string {
  let value: Json | undefined = document;
  for (const part of path.split(".")) {
    if (Array.isArray(value)) {
      value = value[Number(part)];
    } else if (isObject(value) && Object.hasOwn(value, part)) {
      value = value[part];
    } else {
      value = undefined;
    }
    if (value === undefined) {
      throw new StepFailed(`save: nothing at ${path}`);
    }
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** proto3 JSON's FieldMask paths are lowerCamelCase; the proto's are snake_case. */
function snakeCase(path: string): string {
  return path.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function isDefault(value: Json): boolean {
  return (
    value === null ||
    value === "" ||
    value === 0 ||
    value === "0" ||
    value === false ||
    (Array.isArray(value) && value.length === 0) ||
    (isObject(value) && Object.keys(value).length === 0)
  );
}

/**
 * Fails when parsing dropped part of a request: ts-proto's `fromJSON` ignores
 * unknown keys and turns unknown enum names into UNRECOGNIZED, where proto3
 * JSON parsing rejects both. `parsed` is the parsed request printed back with
 * `toJSON`; every key of `input` with a non-default value must still be there
 * (by its JSON name, or as written for map keys).
 */
function checkNothingIgnored(input: Json, parsed: Json | undefined, path: string): void {
  if (isObject(input)) {
    for (const [key, value] of Object.entries(input)) {
      if (isDefault(value)) {
        continue;
      }
      const at = `${path}.${key}`;
      const out = isObject(parsed) ? (parsed[key] ?? parsed[camelCase(key)]) : undefined;
      if (out === undefined) {
        throw new StepFailed(`request${at}: not a field of the request message`);
      }
      checkNothingIgnored(value, out, at);
    }
  } else if (Array.isArray(input)) {
    input.forEach((item, i) =>
      checkNothingIgnored(item, Array.isArray(parsed) ? parsed[i] : undefined, `${path}.${i}`),
    );
  } else if (typeof input === "string" && parsed === "UNRECOGNIZED" && input !== parsed) {
    throw new StepFailed(`request${path}: unknown enum value ${JSON.stringify(input)}`);
  }
}

/** ts-proto's codec of one message type (structural: the generated `MessageFns`). */
interface Codec<T> {
  fromJSON(object: any): T;
  toJSON(message: T): unknown;
}

/** One unary method: its request and response codecs and the typed stub call. */
interface Unary {
  parse(json: Json): unknown;
  call(request: unknown, deadline: Date): Promise<Json>;
}

function unary<Req, Res>(
  request: Codec<Req>,
  response: Codec<Res>,
  stub: UnaryMethod<Req, Res>,
  fixup: (req: Req) => void = () => {},
): Unary {
  return {
    parse(json) {
      const parsed = request.fromJSON(json);
      fixup(parsed);
      checkNothingIgnored(json, toJson(request, parsed), "");
      return parsed;
    },
    async call(req, deadline) {
      return toJson(response, await unaryCall(stub, req as Req, { deadline }));
    },
  };
}

/** A message as canonical JSON (plain JSON values only). */
function toJson<T>(codec: Codec<T>, message: T): Json {
  return JSON.parse(JSON.stringify(codec.toJSON(message) ?? {})) as Json;
}

/** ts-proto keeps FieldMask paths as written in JSON: make them the proto's snake_case. */
function snakeCaseMask(req: { updateMask?: string[] | undefined }): void {
  req.updateMask = req.updateMask?.map((path) => path.split(".").map(snakeCase).join("."));
}

function codeName(code: number): string {
  return grpc.status[code] ?? `code ${code}`;
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as grpc.ServiceError).code === "number";
}

/**
 * A TailEvents stream whose messages queue up until `next` takes them; its
 * end is queued too: the error status it ended with, or a StepFailed for OK.
 */
class Tail {
  private readonly items: (TailEventsResponse | Error)[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(readonly call: grpc.ClientReadableStream<TailEventsResponse>) {
    call.on("data", (message: TailEventsResponse) => this.push(message));
    call.on("error", (error: Error) => this.push(error));
    call.on("end", () => this.push(new StepFailed("stream ended with OK")));
  }

  private push(item: TailEventsResponse | Error): void {
    if (this.closed) {
      return;
    }
    this.items.push(item);
    this.wake?.();
  }

  async next(): Promise<TailEventsResponse | grpc.ServiceError> {
    if (this.items.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, NEXT_TIMEOUT_MS);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    const item = this.items.shift();
    if (item === undefined) {
      throw new StepFailed(`no message within ${NEXT_TIMEOUT_MS / 1000} s`);
    }
    if (item instanceof Error && !isServiceError(item)) {
      throw item instanceof StepFailed ? item : new StepFailed(`stream failed: ${item.message}`);
    }
    return item;
  }

  close(): void {
    this.closed = true;
    this.call.cancel();
  }
}

/** Runs the steps of a scenario. */
class Runner {
  private readonly workingMemory: WorkingMemoryClient;
  private readonly longTermMemory: LongTermMemoryClient;
  private readonly eventLog: EventLogClient;
  private readonly namespaces: NamespacesClient;
  private readonly methods: Map<string, Unary>;
  private readonly tails = new Map<string, Tail>();

  constructor(
    target: string,
    private readonly variables: Map<string, string>,
    options: grpc.ChannelOptions,
  ) {
    const credentials = grpc.credentials.createInsecure();
    this.workingMemory = new WorkingMemoryClient(target, credentials, options);
    const shared = { channelOverride: this.workingMemory.getChannel() };
    this.longTermMemory = new LongTermMemoryClient(target, credentials, shared);
    this.eventLog = new EventLogClient(target, credentials, shared);
    this.namespaces = new NamespacesClient(target, credentials, shared);
    const wm = this.workingMemory;
    const ltm = this.longTermMemory;
    const log = this.eventLog;
    const nss = this.namespaces;
    // "memrpc.v1.Service/Method" -> the typed stub call, with its codecs.
    this.methods = new Map<string, Unary>([
      ["memrpc.v1.WorkingMemory/GetSession",
        unary(GetSessionRequest, GetSessionResponse, wm.getSession.bind(wm))],
      ["memrpc.v1.WorkingMemory/UpdateSession",
        unary(UpdateSessionRequest, UpdateSessionResponse, wm.updateSession.bind(wm), snakeCaseMask)],
      ["memrpc.v1.WorkingMemory/AppendTurns",
        unary(AppendTurnsRequest, AppendTurnsResponse, wm.appendTurns.bind(wm))],
      ["memrpc.v1.WorkingMemory/DeleteSession",
        unary(DeleteSessionRequest, DeleteSessionResponse, wm.deleteSession.bind(wm))],
      ["memrpc.v1.WorkingMemory/ListSessions",
        unary(ListSessionsRequest, ListSessionsResponse, wm.listSessions.bind(wm))],
      ["memrpc.v1.WorkingMemory/GetContext",
        unary(GetContextRequest, GetContextResponse, wm.getContext.bind(wm))],
      ["memrpc.v1.LongTermMemory/CreateMemories",
        unary(CreateMemoriesRequest, CreateMemoriesResponse, ltm.createMemories.bind(ltm))],
      ["memrpc.v1.LongTermMemory/SearchMemories",
        unary(SearchMemoriesRequest, SearchMemoriesResponse, ltm.searchMemories.bind(ltm))],
      ["memrpc.v1.LongTermMemory/ListMemories",
        unary(ListMemoriesRequest, ListMemoriesResponse, ltm.listMemories.bind(ltm))],
      ["memrpc.v1.LongTermMemory/GetMemory",
        unary(GetMemoryRequest, GetMemoryResponse, ltm.getMemory.bind(ltm))],
      ["memrpc.v1.LongTermMemory/UpdateMemory",
        unary(UpdateMemoryRequest, UpdateMemoryResponse, ltm.updateMemory.bind(ltm), snakeCaseMask)],
      ["memrpc.v1.LongTermMemory/DeleteMemory",
        unary(DeleteMemoryRequest, DeleteMemoryResponse, ltm.deleteMemory.bind(ltm))],
      ["memrpc.v1.LongTermMemory/DeleteMemories",
        unary(DeleteMemoriesRequest, DeleteMemoriesResponse, ltm.deleteMemories.bind(ltm))],
      ["memrpc.v1.EventLog/AppendEvents",
        unary(AppendEventsRequest, AppendEventsResponse, log.appendEvents.bind(log))],
      ["memrpc.v1.EventLog/ListEvents",
        unary(ListEventsRequest, ListEventsResponse, log.listEvents.bind(log))],
      ["memrpc.v1.EventLog/TrimEvents",
        unary(TrimEventsRequest, TrimEventsResponse, log.trimEvents.bind(log))],
      ["memrpc.v1.EventLog/CreateConsumerGroup",
        unary(CreateConsumerGroupRequest, CreateConsumerGroupResponse, log.createConsumerGroup.bind(log))],
      ["memrpc.v1.EventLog/DeleteConsumerGroup",
        unary(DeleteConsumerGroupRequest, DeleteConsumerGroupResponse, log.deleteConsumerGroup.bind(log))],
      ["memrpc.v1.EventLog/ReceiveEvents",
        unary(ReceiveEventsRequest, ReceiveEventsResponse, log.receiveEvents.bind(log))],
      ["memrpc.v1.EventLog/AcknowledgeEvents",
        unary(AcknowledgeEventsRequest, AcknowledgeEventsResponse, log.acknowledgeEvents.bind(log))],
      ["memrpc.v1.Namespaces/GetNamespaceSettings",
        unary(GetNamespaceSettingsRequest, GetNamespaceSettingsResponse, nss.getNamespaceSettings.bind(nss))],
      ["memrpc.v1.Namespaces/UpdateNamespaceSettings",
        unary(UpdateNamespaceSettingsRequest, UpdateNamespaceSettingsResponse,
          nss.updateNamespaceSettings.bind(nss), snakeCaseMask)],
    ]);
    // Every unary method of the services must be in the table.
    for (const service of [WorkingMemoryService, LongTermMemoryService, EventLogService, NamespacesService]) {
      for (const method of Object.values(service)) {
        if (!method.responseStream && !this.methods.has(method.path.slice(1))) {
          throw new Error(`runner: no dispatch entry for ${method.path}`);
        }
      }
    }
  }

  async runStep(step: Step): Promise<void> {
    if ("sleep_ms" in step) {
      await new Promise((resolve) => setTimeout(resolve, Number(step.sleep_ms)));
    } else if ("tail" in step) {
      await this.runTail(step);
    } else {
      await this.runCall(step);
    }
  }

  private request(step: Step): Json {
    return substitute((step.request ?? {}) as Json, this.variables);
  }

  private check(step: Step, actual: Json): void {
    const expected = step.expect?.response as Json | undefined;
    if (expected !== undefined) {
      match(substitute(expected, this.variables), actual);
    }
    for (const [name, path] of Object.entries((step.save ?? {}) as Record<string, string>)) {
      this.variables.set(name, lookup(actual, path));
    }
  }

  private async runCall(step: Step): Promise<void> {
    const method = this.methods.get(String(step.call));
    if (method === undefined) {
      throw new StepFailed(`unknown call ${JSON.stringify(step.call)}`);
    }
    const request = method.parse(this.request(step));
    let response: Json;
    try {
      response = await method.call(request, new Date(Date.now() + CALL_TIMEOUT_MS));
    } catch (error) {
      if (!isServiceError(error)) {
        throw error;
      }
      this.checkError(step, error);
      return;
    }
    this.checkOk(step, response);
  }

  /** Checks a message received where the step may expect an error. */
  private checkOk(step: Step, actual: Json): void {
    const code = String(step.expect?.code ?? "OK");
    if (code !== "OK") {
      throw new StepFailed(`expected ${code}, got OK`);
    }
    this.check(step, actual);
  }

  /**
   * Checks a failed call (or a stream's end) against the step: its code,
   * BadRequest field, ErrorInfo reason and metadata; then saves from the metadata.
   */
  private checkError(step: Step, error: grpc.ServiceError): void {
    const expect = (step.expect ?? {}) as Step;
    const code = String(expect.code ?? "OK");
    if (codeName(error.code) !== code) {
      throw new StepFailed(`expected ${code}, got ${codeName(error.code)}: ${error.details}`);
    }
    if ("field" in expect) {
      const fields = fieldViolations(error).map((violation) => violation.field);
      if (!fields.includes(String(expect.field))) {
        throw new StepFailed(
          `expected BadRequest field ${JSON.stringify(expect.field)}, got ${JSON.stringify(fields)}`,
        );
      }
    }
    const info = errorInfo(error);
    if (info === undefined && ("reason" in expect || "errorMetadata" in expect)) {
      throw new StepFailed(`expected an ErrorInfo of domain ${ERROR_DOMAIN}: ${error.details}`);
    }
    if ("reason" in expect && info?.reason !== expect.reason) {
      throw new StepFailed(`expected reason ${String(expect.reason)}, got ${info?.reason ?? ""}`);
    }
    const metadata: Json = { ...(info?.metadata ?? {}) };
    if ("errorMetadata" in expect) {
      match(substitute(expect.errorMetadata as Json, this.variables), metadata, "errorMetadata");
    }
    for (const [name, path] of Object.entries((step.save ?? {}) as Record<string, string>)) {
      this.variables.set(name, lookup({ errorMetadata: metadata }, path));
    }
  }

  private async runTail(step: Step): Promise<void> {
    const action = String(step.tail);
    const stream = String(step.stream);
    if (action === "open") {
      const json = this.request(step);
      const request = TailEventsRequest.fromJSON(json);
      checkNothingIgnored(json, toJson(TailEventsRequest, request), "");
      this.tails.set(stream, new Tail(this.eventLog.tailEvents(request, new grpc.Metadata())));
    } else if (action === "next") {
      const item = await this.tail(stream).next();
      if (isServiceError(item)) {
        this.checkError(step, item);
      } else {
        this.checkOk(step, toJson(TailEventsResponse, item));
      }
    } else if (action === "close") {
      this.tail(stream).close();
      this.tails.delete(stream);
    } else {
      throw new StepFailed(`unknown tail action ${JSON.stringify(action)}`);
    }
  }

  private tail(stream: string): Tail {
    const tail = this.tails.get(stream);
    if (tail === undefined) {
      throw new StepFailed(`no open stream ${JSON.stringify(stream)}`);
    }
    return tail;
  }

  close(): void {
    for (const tail of this.tails.values()) {
      tail.close();
    }
    this.workingMemory.close();
  }
}

interface Args {
  target: string;
  scenario: string;
  variables: Map<string, string>;
  serviceConfig: string | undefined;
}

function parseArgs(argv: string[]): Args {
  let target: string | undefined;
  let scenario: string | undefined;
  let serviceConfig: string | undefined;
  const variables = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    // --flag VALUE or --flag=VALUE
    const eq = argv[i].indexOf("=");
    const flag = argv[i].startsWith("--") && eq > 0 ? argv[i].slice(0, eq) : argv[i];
    const value = flag !== argv[i] ? argv[i].slice(eq + 1) : argv[++i];
    if (value === undefined) {
      throw new Error(`${flag} needs a value`);
    }
    if (flag === "--target") {
      target = value;
    } else if (flag === "--scenario") {
      scenario = value;
    } else if (flag === "--service-config") {
      serviceConfig = value;
    } else if (flag === "--var" && value.includes("=")) {
      variables.set(value.slice(0, value.indexOf("=")), value.slice(value.indexOf("=") + 1));
    } else {
      throw new Error(`unexpected argument ${flag} ${value}`);
    }
  }
  if (target === undefined || scenario === undefined) {
    throw new Error(
      "usage: run --target HOST:PORT --scenario FILE [--var NAME=VALUE]... [--service-config FILE]",
    );
  }
  return { target, scenario, variables, serviceConfig };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const steps = (JSON.parse(readFileSync(args.scenario, "utf-8")) as { steps: Step[] }).steps;
  // The published service config (clients/service-config.json), as a channel option.
  const options: grpc.ChannelOptions =
    args.serviceConfig === undefined ? {} : { "grpc.service_config": readFileSync(args.serviceConfig, "utf-8") };
  const runner = new Runner(args.target, args.variables, options);
  let passed = 0;
  let failed = 0;
  try {
    for (const step of steps) {
      try {
        await runner.runStep(step);
        passed++;
        console.log(`PASS ${step.name}`);
      } catch (error) {
        failed++;
        const reason = error instanceof Error ? error.message : String(error);
        console.log(`FAIL ${step.name}: ${reason}`);
      }
    }
  } finally {
    runner.close();
  }
  console.log(`conformance: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
