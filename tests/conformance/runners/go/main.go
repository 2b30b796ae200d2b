// Command runner is the Go conformance runner: it runs a scenario with the
// generated Go client (clients/go) against a live memrpc server. The format
// is described in tests/conformance/README.md; runners/python/runner.py is
// the reference this mirrors.
//
//	runner --target HOST:PORT --scenario FILE [--var NAME=VALUE]... [--service-config FILE]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/memrpc/memrpc/clients/go/memrpc"
	memrpcv1 "github.com/memrpc/memrpc/clients/go/memrpc/v1"
)

const (
	nextTimeout = 10 * time.Second
	callTimeout = 30 * time.Second
)

// A step of a scenario: a unary call, a sleep or a TailEvents action.
type step struct {
	Name    string            `json:"name"`
	Call    string            `json:"call"`
	Request any               `json:"request"`
	Expect  expect            `json:"expect"`
	Save    map[string]string `json:"save"`
	SleepMs *float64          `json:"sleep_ms"`
	Tail    string            `json:"tail"`
	Stream  string            `json:"stream"`
}

type expect struct {
	Code          string  `json:"code"`
	Response      any     `json:"response"`
	Field         *string `json:"field"`
	Reason        *string `json:"reason"`
	ErrorMetadata any     `json:"errorMetadata"`
}

// unaryFunc calls one unary RPC with a request given as proto3 JSON.
type unaryFunc func(ctx context.Context, request []byte) (proto.Message, error)

// unary adapts a typed stub method (e.g. WorkingMemoryClient.GetSession) to a
// unaryFunc: the request JSON is parsed into the method's own request type.
func unary[Req any, PReq interface {
	*Req
	proto.Message
}, Resp proto.Message](call func(context.Context, PReq, ...grpc.CallOption) (Resp, error)) unaryFunc {
	return func(ctx context.Context, request []byte) (proto.Message, error) {
		req := PReq(new(Req))
		if err := unmarshalRequest(request, req); err != nil {
			return nil, stepError("request: %v", err)
		}
		return call(ctx, req)
	}
}

// fullMask is the update mask "*" (AIP-134: replace every field).
const fullMask = "*"

// unmarshalRequest parses a request's proto3 JSON with protojson, except
// for a top-level FieldMask "*": it is canonical JSON, but protojson refuses
// it (not a field path), so it is set on the message directly, as a Go
// program would write it (&fieldmaskpb.FieldMask{Paths: []string{"*"}}).
func unmarshalRequest(data []byte, req proto.Message) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	var full []protoreflect.FieldDescriptor
	descriptors := req.ProtoReflect().Descriptor().Fields()
	for i := range descriptors.Len() {
		fd := descriptors.Get(i)
		if fd.Message() == nil || fd.Message().FullName() != "google.protobuf.FieldMask" {
			continue
		}
		for _, key := range []string{fd.JSONName(), string(fd.Name())} {
			var mask string
			if json.Unmarshal(fields[key], &mask) == nil && mask == fullMask {
				delete(fields, key)
				full = append(full, fd)
			}
		}
	}
	if len(full) > 0 {
		var err error
		if data, err = json.Marshal(fields); err != nil {
			return err
		}
	}
	if err := protojson.Unmarshal(data, req); err != nil {
		return err
	}
	for _, fd := range full {
		mask := &fieldmaskpb.FieldMask{Paths: []string{fullMask}}
		req.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(mask.ProtoReflect()))
	}
	return nil
}

// methods is the dispatch table from "memrpc.v1.Service/Method" to the typed
// stub call, for every unary RPC (TailEvents is driven by tail steps).
func methods(conn grpc.ClientConnInterface) map[string]unaryFunc {
	wm := memrpcv1.NewWorkingMemoryClient(conn)
	ltm := memrpcv1.NewLongTermMemoryClient(conn)
	ev := memrpcv1.NewEventLogClient(conn)
	ns := memrpcv1.NewNamespacesClient(conn)
	return map[string]unaryFunc{
		"memrpc.v1.WorkingMemory/GetSession":    unary(wm.GetSession),
		"memrpc.v1.WorkingMemory/UpdateSession": unary(wm.UpdateSession),
		"memrpc.v1.WorkingMemory/AppendTurns":   unary(wm.AppendTurns),
		"memrpc.v1.WorkingMemory/DeleteSession": unary(wm.DeleteSession),
		"memrpc.v1.WorkingMemory/ListSessions":  unary(wm.ListSessions),
		"memrpc.v1.WorkingMemory/GetContext":    unary(wm.GetContext),

		"memrpc.v1.LongTermMemory/CreateMemories": unary(ltm.CreateMemories),
		"memrpc.v1.LongTermMemory/SearchMemories": unary(ltm.SearchMemories),
		"memrpc.v1.LongTermMemory/ListMemories":   unary(ltm.ListMemories),
		"memrpc.v1.LongTermMemory/GetMemory":      unary(ltm.GetMemory),
		"memrpc.v1.LongTermMemory/UpdateMemory":   unary(ltm.UpdateMemory),
		"memrpc.v1.LongTermMemory/DeleteMemory":   unary(ltm.DeleteMemory),
		"memrpc.v1.LongTermMemory/DeleteMemories": unary(ltm.DeleteMemories),

		"memrpc.v1.EventLog/AppendEvents":        unary(ev.AppendEvents),
		"memrpc.v1.EventLog/ListEvents":          unary(ev.ListEvents),
		"memrpc.v1.EventLog/TrimEvents":          unary(ev.TrimEvents),
		"memrpc.v1.EventLog/CreateConsumerGroup": unary(ev.CreateConsumerGroup),
		"memrpc.v1.EventLog/DeleteConsumerGroup": unary(ev.DeleteConsumerGroup),
		"memrpc.v1.EventLog/ReceiveEvents":       unary(ev.ReceiveEvents),
		"memrpc.v1.EventLog/AcknowledgeEvents":   unary(ev.AcknowledgeEvents),

		"memrpc.v1.Namespaces/GetNamespaceSettings":    unary(ns.GetNamespaceSettings),
		"memrpc.v1.Namespaces/UpdateNamespaceSettings": unary(ns.UpdateNamespaceSettings),
	}
}

// stepFailed is a step whose outcome differs from its expectation.
type stepFailed struct{ reason string }

func (e *stepFailed) Error() string { return e.reason }

func stepError(format string, args ...any) error {
	return &stepFailed{fmt.Sprintf(format, args...)}
}

// codeNames are the canonical gRPC status code names ("INVALID_ARGUMENT");
// Go's codes.Code.String() spells them "InvalidArgument".
var codeNames = map[codes.Code]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

func codeName(c codes.Code) string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("CODE_%d", uint32(c))
}

// badRequestFields are the fields named in the google.rpc.BadRequest details
// of the error's google.rpc.Status (the grpc-status-details-bin trailer).
func badRequestFields(st *status.Status) []string {
	fields := []string{}
	for _, detail := range st.Details() {
		if bad, ok := detail.(*errdetails.BadRequest); ok {
			for _, v := range bad.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

var varPattern = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// substitute returns value with every ${name} in its strings replaced.
func substitute(value any, vars map[string]string) (any, error) {
	switch v := value.(type) {
	case string:
		var missing error
		out := varPattern.ReplaceAllStringFunc(v, func(m string) string {
			name := m[2 : len(m)-1]
			value, ok := vars[name]
			if !ok && missing == nil {
				missing = stepError("unknown variable %q", name)
			}
			return value
		})
		return out, missing
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			s, err := substitute(item, vars)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			s, err := substitute(item, vars)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	}
	return value, nil
}

// absent stands for a key missing from an object.
type absentT struct{}

var absent = absentT{}

// show renders a value in failure messages.
func show(v any) string {
	if v == absent {
		return "absent"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// number converts a JSON number (json.Number) to a float64.
func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// empty reports whether v is one of "", 0, "0", [], {}, false, null.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == "0"
	case bool:
		return !x
	case json.Number:
		f, ok := number(x)
		return ok && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// match fails unless actual (canonical JSON, decoded with UseNumber)
// satisfies expected.
func match(expected, actual any, path string) error {
	where := path
	if where == "" {
		where = "response"
	}
	if s, ok := expected.(string); ok && strings.HasPrefix(s, "$") {
		var pass bool
		switch {
		case s == "$any":
			pass = actual != absent
		case s == "$absent":
			pass = actual == absent
		case s == "$nonempty":
			pass = actual != absent && !empty(actual)
		case strings.HasPrefix(s, "$lte:") || strings.HasPrefix(s, "$gte:"):
			bound, err := strconv.ParseFloat(s[5:], 64)
			if err != nil {
				return stepError("%s: bad matcher %q", where, s)
			}
			var n float64
			switch a := actual.(type) {
			case absentT:
			case json.Number:
				n, _ = number(a)
			case string:
				if n, err = strconv.ParseFloat(a, 64); err != nil {
					return stepError("%s: expected %s, got %s", where, s, show(actual))
				}
			default:
				return stepError("%s: expected %s, got %s", where, s, show(actual))
			}
			if strings.HasPrefix(s, "$lte:") {
				pass = n <= bound
			} else {
				pass = n >= bound
			}
		default:
			return stepError("%s: unknown matcher %q", where, s)
		}
		if !pass {
			return stepError("%s: expected %s, got %s", where, s, show(actual))
		}
		return nil
	}
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	switch want := expected.(type) {
	case map[string]any:
		got, ok := actual.(map[string]any)
		if !ok {
			return stepError("%s: expected an object, got %s", where, show(actual))
		}
		for _, key := range slices.Sorted(maps.Keys(want)) {
			item, ok := got[key]
			if !ok {
				item = absent
			}
			if err := match(want[key], item, join(key)); err != nil {
				return err
			}
		}
		return nil
	case []any:
		got, ok := actual.([]any)
		if !ok || len(got) != len(want) {
			return stepError("%s: expected %d items, got %s", where, len(want), show(actual))
		}
		for i := range want {
			if err := match(want[i], got[i], join(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	case json.Number:
		w, _ := number(want)
		if g, ok := number(actual); ok && g == w {
			return nil
		}
	case string, bool, nil:
		if actual == expected {
			return nil
		}
	default:
		return stepError("%s: unsupported expectation %s", where, show(expected))
	}
	return stepError("%s: expected %s, got %s", where, show(expected), show(actual))
}

// lookup returns the value at a dotted path (results.0.memory.id) as a
// string: strings as they are, other values as their JSON text.
func lookup(document any, path string) (string, error) {
	value := document
	for _, part := range strings.Split(path, ".") {
		switch v := value.(type) {
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return "", stepError("save: no item %q in %q", part, path)
			}
			value = v[i]
		case map[string]any:
			item, ok := v[part]
			if !ok {
				return "", stepError("save: no key %q in %q", part, path)
			}
			value = item
		default:
			return "", stepError("save: %q: %s is not an object or array", path, show(value))
		}
	}
	if s, ok := value.(string); ok {
		return s, nil
	}
	return show(value), nil
}

// decodeJSON parses JSON keeping numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// A tail item: a stream message, or the error that ended the stream.
type tailItem struct {
	msg *memrpcv1.TailEventsResponse
	err error
}

// tail is a TailEvents stream read by a goroutine, so that next can time out.
type tail struct {
	cancel context.CancelFunc
	items  chan tailItem
}

func openTail(client memrpcv1.EventLogClient, req *memrpcv1.TailEventsRequest) *tail {
	ctx, cancel := context.WithCancel(context.Background())
	t := &tail{cancel: cancel, items: make(chan tailItem, 1024)}
	go func() {
		put := func(item tailItem) bool {
			select {
			case t.items <- item:
				return true
			case <-ctx.Done():
				return false
			}
		}
		stream, err := client.TailEvents(ctx, req)
		if err != nil {
			put(tailItem{err: err})
			return
		}
		for {
			msg, err := stream.Recv()
			if err != nil {
				put(tailItem{err: err})
				return
			}
			if !put(tailItem{msg: msg}) {
				return
			}
		}
	}()
	return t
}

// next waits for the stream's next item: a message, or the error status the
// stream ended with (io.EOF for OK).
func (t *tail) next() (tailItem, error) {
	timer := time.NewTimer(nextTimeout)
	defer timer.Stop()
	select {
	case item := <-t.items:
		return item, nil
	case <-timer.C:
		return tailItem{}, stepError("no message within %g s", nextTimeout.Seconds())
	}
}

// runner runs the steps of a scenario.
type runner struct {
	vars    map[string]string
	methods map[string]unaryFunc
	events  memrpcv1.EventLogClient
	tails   map[string]*tail
}

// request returns the step's request, variables substituted, as JSON.
func (r *runner) request(s *step) ([]byte, error) {
	req := s.Request
	if req == nil {
		req = map[string]any{}
	}
	req, err := substitute(req, r.vars)
	if err != nil {
		return nil, err
	}
	return json.Marshal(req)
}

// check matches a response against the step's expectation and saves values.
func (r *runner) check(s *step, response proto.Message) error {
	data, err := protojson.Marshal(response)
	if err != nil {
		return stepError("response to JSON: %v", err)
	}
	actual, err := decodeJSON(data)
	if err != nil {
		return stepError("response JSON: %v", err)
	}
	if s.Expect.Response != nil {
		want, err := substitute(s.Expect.Response, r.vars)
		if err != nil {
			return err
		}
		if err := match(want, actual, ""); err != nil {
			return err
		}
	}
	for name, path := range s.Save {
		value, err := lookup(actual, path)
		if err != nil {
			return err
		}
		r.vars[name] = value
	}
	return nil
}

func (r *runner) runStep(s *step) error {
	switch {
	case s.SleepMs != nil:
		time.Sleep(time.Duration(*s.SleepMs * float64(time.Millisecond)))
		return nil
	case s.Tail != "":
		return r.runTail(s)
	default:
		return r.runCall(s)
	}
}

// code is the step's expected status code name.
func (s *step) code() string {
	if s.Expect.Code == "" {
		return "OK"
	}
	return s.Expect.Code
}

func (r *runner) runCall(s *step) error {
	call, ok := r.methods[s.Call]
	if !ok {
		return stepError("unknown call %q", s.Call)
	}
	req, err := r.request(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	response, err := call(ctx, req)
	if err != nil {
		var failed *stepFailed
		if errors.As(err, &failed) {
			return err
		}
		return r.checkError(s, err)
	}
	return r.checkOK(s, response)
}

// checkOK checks a message received where the step may expect an error.
func (r *runner) checkOK(s *step, response proto.Message) error {
	if code := s.code(); code != "OK" {
		return stepError("expected %s, got OK", code)
	}
	return r.check(s, response)
}

// checkError checks a failed call (or a stream's end) against the step: its
// code, BadRequest field, ErrorInfo reason and metadata; then saves from the
// metadata.
func (r *runner) checkError(s *step, err error) error {
	st := status.Convert(err)
	if got := codeName(st.Code()); got != s.code() {
		return stepError("expected %s, got %s: %s", s.code(), got, st.Message())
	}
	if s.Expect.Field != nil {
		fields := badRequestFields(st)
		if !slices.Contains(fields, *s.Expect.Field) {
			return stepError("expected BadRequest field %q, got %q", *s.Expect.Field, fields)
		}
	}
	info := memrpc.ErrorInfo(err)
	if info == nil && (s.Expect.Reason != nil || s.Expect.ErrorMetadata != nil) {
		return stepError("expected an ErrorInfo of domain %s: %s", memrpc.Domain, st.Message())
	}
	if s.Expect.Reason != nil && info.GetReason() != *s.Expect.Reason {
		return stepError("expected reason %s, got %s", *s.Expect.Reason, info.GetReason())
	}
	metadata := map[string]any{}
	for key, value := range info.GetMetadata() {
		metadata[key] = value
	}
	if s.Expect.ErrorMetadata != nil {
		want, err := substitute(s.Expect.ErrorMetadata, r.vars)
		if err != nil {
			return err
		}
		if err := match(want, metadata, "errorMetadata"); err != nil {
			return err
		}
	}
	document := map[string]any{"errorMetadata": metadata}
	for name, path := range s.Save {
		value, err := lookup(document, path)
		if err != nil {
			return err
		}
		r.vars[name] = value
	}
	return nil
}

func (r *runner) runTail(s *step) error {
	switch s.Tail {
	case "open":
		data, err := r.request(s)
		if err != nil {
			return err
		}
		req := &memrpcv1.TailEventsRequest{}
		if err := protojson.Unmarshal(data, req); err != nil {
			return stepError("request: %v", err)
		}
		if old, ok := r.tails[s.Stream]; ok {
			old.cancel()
		}
		r.tails[s.Stream] = openTail(r.events, req)
		return nil
	case "next":
		t, ok := r.tails[s.Stream]
		if !ok {
			return stepError("no open stream %q", s.Stream)
		}
		item, err := t.next()
		switch {
		case err != nil:
			return err
		case errors.Is(item.err, io.EOF):
			return stepError("expected %s, stream ended with OK", s.code())
		case item.err != nil:
			return r.checkError(s, item.err)
		}
		return r.checkOK(s, item.msg)
	case "close":
		t, ok := r.tails[s.Stream]
		if !ok {
			return stepError("no open stream %q", s.Stream)
		}
		t.cancel()
		delete(r.tails, s.Stream)
		return nil
	}
	return stepError("unknown tail action %q", s.Tail)
}

type varFlags map[string]string

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	v[name] = value
	return nil
}

func main() {
	os.Exit(run())
}

func run() int {
	vars := varFlags{}
	target := flag.String("target", "", "the server, HOST:PORT")
	scenario := flag.String("scenario", "", "the scenario file (JSON)")
	flag.Var(vars, "var", "a variable, NAME=VALUE (repeatable)")
	serviceConfig := flag.String("service-config", "", "a gRPC service config (JSON file) for the channel")
	flag.Parse()
	if *target == "" || *scenario == "" || flag.NArg() > 0 {
		flag.Usage()
		return 2
	}

	data, err := os.ReadFile(*scenario)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var doc struct {
		Steps []step `json:"steps"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", *scenario, err)
		return 2
	}

	options := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if *serviceConfig != "" {
		config, err := os.ReadFile(*serviceConfig)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		options = append(options, grpc.WithDefaultServiceConfig(string(config)))
	}
	conn, err := grpc.NewClient(*target, options...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer conn.Close()

	r := &runner{
		vars:    vars,
		methods: methods(conn),
		events:  memrpcv1.NewEventLogClient(conn),
		tails:   map[string]*tail{},
	}
	passed, failed := 0, 0
	for i := range doc.Steps {
		s := &doc.Steps[i]
		if err := r.runStep(s); err != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", s.Name, err)
		} else {
			passed++
			fmt.Printf("PASS %s\n", s.Name)
		}
	}
	for _, t := range r.tails {
		t.cancel()
	}
	fmt.Printf("conformance: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}
