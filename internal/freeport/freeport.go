// Package freeport finds loopback TCP ports for tests that start real
// servers (the daemon, Prometheus) as separate processes.
package freeport

import (
	"net"
	"strconv"
	"testing"
)

// Port returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may take it before the caller binds it; callers that start a
// server retry on "address already in use" where that matters.
func Port(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr returns Port as a "127.0.0.1:PORT" listen address.
func Addr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(t)))
}
