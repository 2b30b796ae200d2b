module memrpc.dev/tests/packages/go/modzip

go 1.25.0

require golang.org/x/mod v0.30.0
