package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// echoServer starts an in-process gRPC server that answers every method,
// /bench.Echo/Echo included, with the raw bytes it received.
func echoServer(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			var msg []byte
			if err := stream.RecvMsg(&msg); err != nil {
				return err
			}
			return stream.SendMsg(msg)
		}),
	)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestEchoAgainstInProcessServer(t *testing.T) {
	addr := echoServer(t)
	for _, concurrency := range []string{"1", "8"} {
		var out, errs bytes.Buffer
		code := run([]string{
			"--target", addr, "--rpc", "echo", "--concurrency", concurrency,
			"--duration", "300ms", "--warmup", "100ms",
		}, &out, &errs)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
		var fields map[string]any
		if err := json.Unmarshal(out.Bytes(), &fields); err != nil {
			t.Fatalf("stdout %q: %v", out.String(), err)
		}
		want := []string{"rpc", "concurrency", "count", "errors", "p50_us", "p90_us", "p99_us", "throughput_per_s"}
		if len(fields) != len(want) {
			t.Errorf("fields %v, want exactly %v", fields, want)
		}
		var res result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", strings.TrimSpace(out.String()))
		if res.RPC != "echo" || res.Count == 0 || res.Errors != 0 {
			t.Errorf("result %+v", res)
		}
		if !(0 < res.P50us && res.P50us <= res.P90us && res.P90us <= res.P99us) {
			t.Errorf("percentiles out of order: %+v", res)
		}
		if got := float64(res.Count) / 0.3; res.Throughput < got*0.99 || res.Throughput > got*1.01 {
			t.Errorf("throughput %v, want count/duration %v", res.Throughput, got)
		}
	}
}

func TestSetupFailureExitsNonZero(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there any more
	var out, errs bytes.Buffer
	code := run([]string{"--target", addr, "--rpc", "echo", "--setup-timeout", "300ms", "--duration", "100ms"}, &out, &errs)
	if code != 1 || out.Len() != 0 || !strings.Contains(errs.String(), "setup of echo") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--rpc", "echo"},
		{"--target", "127.0.0.1:1", "--rpc", "Nope"},
		{"--target", "127.0.0.1:1", "--rpc", "echo", "--concurrency", "0"},
	} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 || errs.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs.String())
		}
	}
}

func TestPercentile(t *testing.T) {
	var samples []time.Duration
	for i := 1; i <= 100; i++ {
		samples = append(samples, time.Duration(i)*time.Microsecond)
	}
	for p, want := range map[float64]time.Duration{50: 50, 90: 90, 99: 99, 100: 100, 0.1: 1} {
		if got := percentile(samples, p); got != want*time.Microsecond {
			t.Errorf("p%v = %v, want %vµs", p, got, int64(want))
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of no samples is not 0")
	}
}

func TestUnitVector(t *testing.T) {
	a, other := unitVector(0), unitVector(1)
	var norm, dot float64
	for i := range a {
		norm += float64(a[i]) * float64(a[i])
		dot += float64(a[i]) * float64(other[i])
	}
	if len(a) != dimensions || !slices.Equal(a, unitVector(0)) || math.Abs(norm-1) > 1e-3 || math.Abs(dot) > 0.3 {
		t.Errorf("len %d, norm %v, dot with another seed %v", len(a), norm, dot)
	}
}
