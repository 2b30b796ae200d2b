// A program of a memrpc Go client user, built from the module fetched by
// `go get`: UpdateSession, AppendTurns, GetSession.
//
//	go run . TARGET NAMESPACE THREAD
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	memrpcv1 "github.com/memrpc/memrpc/clients/go/memrpc/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

func main() {
	target, namespace, thread := os.Args[1], os.Args[2], os.Args[3]
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wm := memrpcv1.NewWorkingMemoryClient(conn)
	if _, err := wm.UpdateSession(ctx, &memrpcv1.UpdateSessionRequest{
		Namespace:  namespace,
		ThreadId:   thread,
		Session:    &memrpcv1.SessionInput{Goal: "installed go package"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"goal"}},
	}); err != nil {
		log.Fatal(err)
	}
	if _, err := wm.AppendTurns(ctx, &memrpcv1.AppendTurnsRequest{
		Namespace: namespace,
		ThreadId:  thread,
		Turns:     []*memrpcv1.TurnInput{{Role: "user", Content: "hello from the go package"}},
	}); err != nil {
		log.Fatal(err)
	}
	got, err := wm.GetSession(ctx, &memrpcv1.GetSessionRequest{Namespace: namespace, ThreadId: thread})
	if err != nil {
		log.Fatal(err)
	}
	if got.GetSession().GetGoal() != "installed go package" || len(got.GetSession().GetTurns()) != 1 {
		log.Fatalf("unexpected session: %v", got.GetSession())
	}
	fmt.Printf("go: session version %d\n", got.GetSession().GetVersion())
}
