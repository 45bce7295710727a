package web

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// slots bound the requests forwarded to Prometheus at once, in total and
// per client, so that one client (a hostile one, or many open tabs) leaves
// room for the others. Requests beyond either limit are refused at once
// rather than queued: a queue would hold connections and memory for whoever
// sends the most.
type slots struct {
	mu        sync.Mutex
	total     int
	perClient int
	used      int
	byClient  map[string]int
}

func newSlots(total, perClient int) *slots {
	return &slots{total: total, perClient: perClient, byClient: map[string]int{}}
}

// acquire takes a slot for client, or says why there is none.
func (s *slots) acquire(client string) (release func(), e *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.byClient[client] >= s.perClient:
		return nil, unavailable("too many queries in flight from %s (limit %d per client)", client, s.perClient)
	case s.used >= s.total:
		return nil, unavailable("too many dashboard queries in flight (limit %d)", s.total)
	}
	s.used++
	s.byClient[client]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.used--
		if s.byClient[client]--; s.byClient[client] == 0 {
			delete(s.byClient, client)
		}
	}, nil
}

// clientKey is what counts as one client: its IPv4 address, or its IPv6
// /64 (one host may hold a whole /64 of addresses). Addresses that are not
// IP (a Unix socket) share one key.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "local"
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return fmt.Sprint(netip.PrefixFrom(a, 64).Masked())
}
