// Command loadgen drives one memrpc RPC (or the bare echo RPC) from N
// goroutines for a fixed time and prints its latency percentiles and
// throughput as one JSON object, so that the benchmark's client overhead is
// Go's, not Python's.
//
//	loadgen --target 127.0.0.1:PORT --rpc NAME --namespace NS --concurrency N \
//	    --duration 5s --warmup 1s [--thread T] [--vector-file F] [--connections C]
//
// NAME is echo, GetSession, AppendTurns, SearchMemoriesVector or AppendEvents.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	memrpcv1 "github.com/memrpc/memrpc/clients/go/memrpc/v1"
)

const (
	// echoMethod is the bare echo RPC of bench/echo.py: raw bytes in and out.
	echoMethod  = "/bench.Echo/Echo"
	echoPayload = 64
	// dimensions of the server's embedding model (all-MiniLM-L6-v2).
	dimensions = 384
	// seedMemories is how many memories SearchMemoriesVector stores when the
	// namespace has none; seedTurns is the window GetSession reads.
	seedMemories = 200
	seedTurns    = 20
	maxConns     = 4
	callTimeout  = 10 * time.Second
)

// result is the one JSON object printed on stdout.
type result struct {
	RPC         string  `json:"rpc"`
	Concurrency int     `json:"concurrency"`
	Count       int     `json:"count"`
	Errors      int     `json:"errors"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	Throughput  float64 `json:"throughput_per_s"`
}

type options struct {
	target       string
	rpc          string
	namespace    string
	thread       string
	vectorFile   string
	concurrency  int
	connections  int
	duration     time.Duration
	warmup       time.Duration
	setupTimeout time.Duration
}

// callFunc makes one call of the measured RPC on a connection.
type callFunc func(ctx context.Context, conn *grpc.ClientConn) error

// rawCodec passes []byte messages through unchanged, for the echo RPC. Its
// name is "proto" so that the content type is the usual application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case *[]byte:
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...) // data is only valid during the call
	return nil
}

func (rawCodec) Name() string { return "proto" }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command: 0 on success, 1 on a setup failure, 2 on bad
// arguments.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 2
	}
	conns := make([]*grpc.ClientConn, opts.connections)
	for i := range conns {
		conns[i], err = grpc.NewClient(opts.target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Fprintf(stderr, "loadgen: connect %s: %v\n", opts.target, err)
			return 1
		}
		defer conns[i].Close()
	}
	call, err := prepare(opts, conns[0])
	if err == nil {
		err = probe(opts, conns, call)
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: setup of %s on %s: %v\n", opts.rpc, opts.target, err)
		return 1
	}
	res, firstErr := measure(opts, conns, call)
	if firstErr != nil {
		fmt.Fprintf(stderr, "loadgen: %d of %d calls failed; first: %v\n", res.Errors, res.Errors+res.Count, firstErr)
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
	return 0
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "", "server address HOST:PORT (required)")
	fs.StringVar(&o.rpc, "rpc", "", "echo, GetSession, AppendTurns, SearchMemoriesVector or AppendEvents (required)")
	fs.StringVar(&o.namespace, "namespace", "bench", "memrpc namespace")
	fs.StringVar(&o.thread, "thread", "bench-thread", "thread of GetSession, AppendTurns and AppendEvents")
	fs.StringVar(&o.vectorFile, "vector-file", "", "JSON array of 384 floats: the SearchMemoriesVector query")
	fs.IntVar(&o.concurrency, "concurrency", 1, "goroutines, each with one call in flight")
	fs.IntVar(&o.connections, "connections", 0, "gRPC connections the goroutines share round-robin (default min(concurrency, 4))")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured window")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before the measured window, not recorded")
	fs.DurationVar(&o.setupTimeout, "setup-timeout", 10*time.Second, "deadline for connecting and seeding")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.target == "":
		return o, errors.New("--target is required")
	case o.concurrency < 1:
		return o, errors.New("--concurrency must be at least 1")
	case o.duration <= 0 || o.warmup < 0:
		return o, errors.New("--duration must be positive and --warmup not negative")
	case o.connections < 0:
		return o, errors.New("--connections must not be negative")
	}
	if !slices.Contains([]string{"echo", "GetSession", "AppendTurns", "SearchMemoriesVector", "AppendEvents"}, o.rpc) {
		return o, fmt.Errorf("unknown --rpc %q", o.rpc)
	}
	if o.connections == 0 {
		o.connections = min(o.concurrency, maxConns)
	}
	return o, nil
}

// prepare seeds what the RPC reads and returns the call to measure.
func prepare(o options, conn *grpc.ClientConn) (callFunc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.setupTimeout)
	defer cancel()
	wait := grpc.WaitForReady(true) // tolerate a server still starting up
	switch o.rpc {
	case "echo":
		payload := make([]byte, echoPayload)
		for i := range payload {
			payload[i] = byte('a' + i%26)
		}
		return func(ctx context.Context, conn *grpc.ClientConn) error {
			var reply []byte
			if err := conn.Invoke(ctx, echoMethod, payload, &reply, grpc.ForceCodec(rawCodec{})); err != nil {
				return err
			}
			if len(reply) != len(payload) {
				return fmt.Errorf("echo returned %d bytes, sent %d", len(reply), len(payload))
			}
			return nil
		}, nil

	case "GetSession":
		wm := memrpcv1.NewWorkingMemoryClient(conn)
		if _, err := wm.UpdateSession(ctx, &memrpcv1.UpdateSessionRequest{
			Namespace: o.namespace,
			ThreadId:  o.thread,
			Session: &memrpcv1.SessionInput{
				UserId:     "bench-user",
				Goal:       "Plan a three-day trip to Oslo",
				Scratchpad: "flights: compare morning departures",
				Metadata:   map[string]string{"agent": "loadgen"},
			},
		}, wait); err != nil {
			return nil, fmt.Errorf("UpdateSession: %w", err)
		}
		turns := make([]*memrpcv1.TurnInput, seedTurns)
		for i := range turns {
			turns[i] = turn(i)
		}
		if _, err := wm.AppendTurns(ctx, &memrpcv1.AppendTurnsRequest{
			Namespace: o.namespace, ThreadId: o.thread, Turns: turns, MaxWindowTurns: seedTurns,
		}, wait); err != nil {
			return nil, fmt.Errorf("AppendTurns: %w", err)
		}
		req := &memrpcv1.GetSessionRequest{Namespace: o.namespace, ThreadId: o.thread}
		return func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := memrpcv1.NewWorkingMemoryClient(conn).GetSession(ctx, req)
			return err
		}, nil

	case "AppendTurns":
		req := &memrpcv1.AppendTurnsRequest{
			Namespace: o.namespace, ThreadId: o.thread, UserId: "bench-user",
			Turns: []*memrpcv1.TurnInput{turn(0)},
		}
		return func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := memrpcv1.NewWorkingMemoryClient(conn).AppendTurns(ctx, req)
			return err
		}, nil

	case "SearchMemoriesVector":
		query, err := queryVector(o.vectorFile)
		if err != nil {
			return nil, err
		}
		maxDistance := float32(2) // every memory is within 2: results come back
		req := &memrpcv1.SearchMemoriesRequest{
			Namespace:   o.namespace,
			Query:       &memrpcv1.SearchMemoriesRequest_Vector{Vector: &memrpcv1.Vector{Values: query}},
			MaxDistance: &maxDistance,
		}
		if err := seedMemoriesIfEmpty(ctx, o.namespace, memrpcv1.NewLongTermMemoryClient(conn), req); err != nil {
			return nil, err
		}
		return func(ctx context.Context, conn *grpc.ClientConn) error {
			resp, err := memrpcv1.NewLongTermMemoryClient(conn).SearchMemories(ctx, req)
			if err == nil && len(resp.GetMatches()) == 0 {
				err = errors.New("search returned no matches")
			}
			return err
		}, nil

	case "AppendEvents":
		payload, err := structpb.NewStruct(map[string]any{"tool": "search", "q": "flights to Oslo", "n": 3})
		if err != nil {
			return nil, err
		}
		req := &memrpcv1.AppendEventsRequest{
			Namespace: o.namespace, ThreadId: o.thread,
			Events: []*memrpcv1.EventInput{{Type: "tool_call", Payload: &memrpcv1.EventInput_Json{Json: payload}}},
		}
		return func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := memrpcv1.NewEventLogClient(conn).AppendEvents(ctx, req)
			return err
		}, nil
	}
	return nil, fmt.Errorf("unknown rpc %q", o.rpc)
}

// turn returns the i-th turn of a made-up conversation, about 60 characters.
func turn(i int) *memrpcv1.TurnInput {
	role := "user"
	if i%2 == 1 {
		role = "assistant"
	}
	return &memrpcv1.TurnInput{Role: role, Content: fmt.Sprintf("turn %d: which morning flights to Oslo leave before nine?", i)}
}

// seedMemoriesIfEmpty stores seedMemories memories with their own embeddings
// (so the server's model is not needed) when the search finds none.
func seedMemoriesIfEmpty(ctx context.Context, ns string, ltm memrpcv1.LongTermMemoryClient, search *memrpcv1.SearchMemoriesRequest) error {
	resp, err := ltm.SearchMemories(ctx, search, grpc.WaitForReady(true))
	if err != nil {
		return fmt.Errorf("SearchMemories: %w", err)
	}
	if len(resp.GetMatches()) > 0 {
		return nil
	}
	const batch = 100 // the most CreateMemories accepts
	for start := 0; start < seedMemories; start += batch {
		req := &memrpcv1.CreateMemoriesRequest{Namespace: ns}
		for i := start; i < min(start+batch, seedMemories); i++ {
			req.Memories = append(req.Memories, &memrpcv1.MemoryInput{
				Text:      fmt.Sprintf("loadgen memory %d: the user prefers morning flights", i),
				UserId:    "bench-user",
				Embedding: unitVector(uint64(i + 1)),
			})
		}
		if _, err := ltm.CreateMemories(ctx, req); err != nil {
			return fmt.Errorf("CreateMemories: %w", err)
		}
	}
	return nil
}

// queryVector reads the query from a JSON file, or returns a fixed one.
func queryVector(path string) ([]float32, error) {
	if path == "" {
		return unitVector(0), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v []float32
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(v) != dimensions {
		return nil, fmt.Errorf("%s: %d values, want %d", path, len(v), dimensions)
	}
	return v, nil
}

// unitVector is a deterministic pseudo-random unit vector of the model's
// dimension; different seeds give nearly orthogonal vectors.
func unitVector(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x6c6f616467656e))
	v := make([]float64, dimensions)
	var norm float64
	for i := range v {
		v[i] = r.NormFloat64()
		norm += v[i] * v[i]
	}
	norm = math.Sqrt(norm)
	out := make([]float32, dimensions)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// probe makes one call on every connection, so that all are connected and
// the RPC is known to work before the clock starts.
func probe(o options, conns []*grpc.ClientConn, call callFunc) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.setupTimeout)
	defer cancel()
	for _, conn := range conns {
		conn.Connect()
	}
	for _, conn := range conns {
		// Wait for the connection first: the call itself fails fast.
		for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
			if !conn.WaitForStateChange(ctx, s) {
				return fmt.Errorf("connection not ready (%s): %w", s, ctx.Err())
			}
		}
		if err := call(ctx, conn); err != nil {
			return err
		}
	}
	return nil
}

// measure runs concurrency goroutines for warmup+duration. A call counts
// when it starts and ends inside the measured window; its error counts the
// same way.
func measure(o options, conns []*grpc.ClientConn, call callFunc) (result, error) {
	start := time.Now()
	from := start.Add(o.warmup)
	until := from.Add(o.duration)
	ctx, cancel := context.WithDeadline(context.Background(), until.Add(callTimeout))
	defer cancel()

	type tally struct {
		samples  []time.Duration
		errors   int
		firstErr error
	}
	tallies := make([]tally, o.concurrency)
	var wg sync.WaitGroup
	for w := range tallies {
		wg.Add(1)
		go func(t *tally, conn *grpc.ClientConn) {
			defer wg.Done()
			t.samples = make([]time.Duration, 0, 4096)
			for {
				t0 := time.Now()
				if !t0.Before(until) {
					return
				}
				callCtx, callCancel := context.WithTimeout(ctx, callTimeout)
				err := call(callCtx, conn)
				callCancel()
				t1 := time.Now()
				if t0.Before(from) || t1.After(until) {
					continue
				}
				if err != nil {
					t.errors++
					if t.firstErr == nil {
						t.firstErr = err
					}
					continue
				}
				t.samples = append(t.samples, t1.Sub(t0))
			}
		}(&tallies[w], conns[w%len(conns)])
	}
	wg.Wait()

	var samples []time.Duration
	res := result{RPC: o.rpc, Concurrency: o.concurrency}
	var firstErr error
	for _, t := range tallies {
		samples = append(samples, t.samples...)
		res.Errors += t.errors
		if firstErr == nil {
			firstErr = t.firstErr
		}
	}
	slices.Sort(samples)
	res.Count = len(samples)
	res.P50us = micros(percentile(samples, 50))
	res.P90us = micros(percentile(samples, 90))
	res.P99us = micros(percentile(samples, 99))
	res.Throughput = math.Round(float64(res.Count)/o.duration.Seconds()*10) / 10
	return res, firstErr
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted
// samples, 0 when there are none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// micros is d in microseconds, to 0.1 µs.
func micros(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)*10) / 10
}
