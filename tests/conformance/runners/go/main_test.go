package main

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	memrpcv1 "github.com/memrpc/memrpc/clients/go/memrpc/v1"
)

// TestDispatchTableIsComplete checks that every unary RPC of the
// services has an entry in the dispatch table, and nothing else does.
func TestDispatchTableIsComplete(t *testing.T) {
	table := methods(nil)
	want := map[string]bool{}
	for _, file := range []protoreflect.FileDescriptor{
		memrpcv1.File_memrpc_v1_working_memory_proto,
		memrpcv1.File_memrpc_v1_long_term_memory_proto,
		memrpcv1.File_memrpc_v1_event_log_proto,
		memrpcv1.File_memrpc_v1_namespace_settings_proto,
	} {
		services := file.Services()
		for i := 0; i < services.Len(); i++ {
			methods := services.Get(i).Methods()
			for j := 0; j < methods.Len(); j++ {
				m := methods.Get(j)
				if m.IsStreamingClient() || m.IsStreamingServer() {
					continue
				}
				name := string(services.Get(i).FullName()) + "/" + string(m.Name())
				want[name] = true
				if table[name] == nil {
					t.Errorf("no dispatch entry for %s", name)
				}
			}
		}
	}
	for name := range table {
		if !want[name] {
			t.Errorf("dispatch entry %s is not a unary RPC of the protos", name)
		}
	}
}

func TestMatch(t *testing.T) {
	parse := func(s string) any {
		v, err := decodeJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		expected, actual string
		ok               bool
	}{
		{`{"a": 2}`, `{"a": 2.0, "b": 1}`, true},
		{`{"a": 2}`, `{"a": "2"}`, false},
		{`{"a": "$absent"}`, `{}`, true},
		{`{"a": "$absent"}`, `{"a": null}`, false},
		{`{"a": "$any"}`, `{"a": null}`, true},
		{`{"a": "$nonempty"}`, `{"a": "0"}`, false},
		{`{"a": "$nonempty"}`, `{"a": 0.0}`, false},
		{`{"a": "$nonempty"}`, `{"a": {}}`, false},
		{`{"a": "$nonempty"}`, `{"a": "x"}`, true},
		{`{"a": "$lte:0.5"}`, `{}`, true},
		{`{"a": "$lte:0.5"}`, `{"a": 0.6}`, false},
		{`{"a": "$gte:3"}`, `{"a": "3"}`, true},
		{`[1, 2]`, `[1]`, false},
		{`[true, null]`, `[true, null]`, true},
		{`[false]`, `[0]`, false},
		{`{"a": "x"}`, `{"a": ["x"]}`, false},
	}
	for _, c := range cases {
		err := match(parse(c.expected), parse(c.actual), "")
		if (err == nil) != c.ok {
			t.Errorf("match(%s, %s) = %v, want ok=%v", c.expected, c.actual, err, c.ok)
		}
	}
}

// TestFullUpdateMask checks that the canonical JSON update mask "*", which
// protojson refuses, reaches the request as the path "*", and that the
// other fields are parsed as usual.
func TestFullUpdateMask(t *testing.T) {
	req := &memrpcv1.UpdateSessionRequest{}
	err := unmarshalRequest([]byte(`{"threadId": "t", "updateMask": "*", "session": {"goal": "g"}}`), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.GetUpdateMask().GetPaths(); len(got) != 1 || got[0] != "*" {
		t.Errorf("update_mask paths = %q, want [*]", got)
	}
	if req.GetThreadId() != "t" || req.GetSession().GetGoal() != "g" {
		t.Errorf("other fields lost: %v", req)
	}
	plain := &memrpcv1.UpdateSessionRequest{}
	if err := unmarshalRequest([]byte(`{"updateMask": "goal,userId"}`), plain); err != nil {
		t.Fatal(err)
	}
	if got := plain.GetUpdateMask().GetPaths(); len(got) != 2 || got[1] != "user_id" {
		t.Errorf("update_mask paths = %q, want [goal user_id]", got)
	}
}
