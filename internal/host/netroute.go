package host

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
)

var (
	routeInfoDesc = desc("node_network_route_info", "Unicast routes: IPv4 of the main table (/proc/net/route) and IPv6 (/proc/net/ipv6_route), value is always 1; proto and src are not in those files and stay empty.",
		"device", "src", "dest", "gw", "priority", "proto", "weight")
	routesDesc = desc("node_network_routes", "Unicast routes by interface (/proc/net/route, /proc/net/ipv6_route).", "device")
)

// Route flags of routes that are not unicast, which node_exporter leaves
// out: unreachable, blackhole or prohibit (reject), the host's own
// addresses (local), anycast, and IPv6's cached clones.
const (
	rtfReject  = 0x0200
	rtfCache   = 0x01000000
	rtfAnycast = 0x00100000
	rtfLocal   = 0x80000000
	notUnicast = rtfReject | rtfCache | rtfAnycast | rtfLocal
)

// networkRouteCollector exports node_network_route_info, the family of
// node_exporter's network_route collector that names the interface holding
// the default route: an uplink that lost it is a device cut off. It reads
// /proc/net/route and /proc/net/ipv6_route, rooted at --path.procfs, where node_exporter asks
// netlink, a socket family the daemon's unit does not allow; the file has
// no protocol or preferred source, so those labels are empty, and IPv4
// routes of policy-routing tables other than main are not in it.
type networkRouteCollector struct {
	v4, v6 string
	file   func(string) ([]byte, error)
}

func newNetworkRoute(e *env) collector {
	return &networkRouteCollector{v4: filepath.Join(e.procfs, "net", "route"), v6: filepath.Join(e.procfs, "net", "ipv6_route"), file: e.file}
}

func (c *networkRouteCollector) update(p *poll) error {
	routes := map[string]int{}
	found := false
	for _, f := range []struct {
		path  string
		parse func(string) (route, error)
		head  int // header lines
	}{{c.v4, parseRoute, 1}, {c.v6, parseRoute6, 0}} {
		b, err := c.file(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return inFile(f.path, err)
		}
		found = true
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for i := f.head; i < len(lines) && lines[i] != ""; i++ {
			r, err := f.parse(lines[i])
			if err != nil {
				return fmt.Errorf("%s line %d: %w", f.path, i+1, err)
			}
			if r.flags&notUnicast != 0 || r.multicast {
				continue
			}
			p.gauge(routeInfoDesc, 1, r.device, "", r.dest, r.gw, strconv.FormatUint(uint64(r.metric), 10), "", "")
			routes[r.device]++
		}
	}
	if !found {
		return errNoData
	}
	for dev, n := range routes {
		p.gauge(routesDesc, float64(n), dev)
	}
	return nil
}

type route struct {
	device, dest, gw string
	flags, metric    uint32
	multicast        bool
}

// parseRoute reads one line of /proc/net/route: Iface Destination Gateway
// Flags RefCnt Use Metric Mask ..., addresses in hex in the machine's byte
// order.
func parseRoute(line string) (route, error) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return route{}, fmt.Errorf("%d fields, want at least 8: %q", len(f), line)
	}
	var n [5]uint32
	for i, col := range [...]int{1, 2, 3, 6, 7} {
		base := 16
		if col == 6 {
			base = 10 // the metric is printed in decimal, the rest in hex
		}
		v, err := strconv.ParseUint(f[col], base, 32)
		if err != nil {
			return route{}, fmt.Errorf("field %d: %w", col+1, err)
		}
		n[i] = uint32(v)
	}
	dst, gw, mask := ipv4(n[0]), ipv4(n[1]), n[4]
	ones := bits.OnesCount32(mask)
	r := route{device: f[0], flags: n[2], metric: n[3], dest: "default"}
	if ones > 0 {
		r.dest = netip.PrefixFrom(dst, ones).String()
	}
	if gw != netip.IPv4Unspecified() {
		r.gw = gw.String()
	}
	return r, nil
}

func ipv4(n uint32) netip.Addr {
	var a [4]byte
	binary.NativeEndian.PutUint32(a[:], n)
	return netip.AddrFrom4(a)
}

// parseRoute6 reads one line of /proc/net/ipv6_route: destination, its
// prefix length, source, its prefix length, next hop, metric, reference
// count, use, flags, device; all numbers in hex, addresses in network order.
func parseRoute6(line string) (route, error) {
	f := strings.Fields(line)
	if len(f) != 10 {
		return route{}, fmt.Errorf("%d fields, want 10: %q", len(f), line)
	}
	dst, err1 := hexAddr(f[0])
	plen, err2 := strconv.ParseUint(f[1], 16, 8)
	gw, err3 := hexAddr(f[4])
	metric, err4 := strconv.ParseUint(f[5], 16, 32)
	flags, err5 := strconv.ParseUint(f[8], 16, 32)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil || plen > 128 {
		return route{}, fmt.Errorf("not a route: %q", line)
	}
	r := route{device: f[9], flags: uint32(flags), metric: uint32(metric), dest: "default", multicast: dst.IsMulticast()}
	if plen > 0 {
		r.dest = netip.PrefixFrom(dst, int(plen)).String()
	}
	if !gw.IsUnspecified() {
		r.gw = gw.String()
	}
	return r, nil
}

func hexAddr(s string) (netip.Addr, error) {
	var a [16]byte
	if len(s) != 32 {
		return netip.Addr{}, fmt.Errorf("%q is not 32 hex digits", s)
	}
	if _, err := hex.Decode(a[:], []byte(s)); err != nil {
		return netip.Addr{}, err
	}
	return netip.AddrFrom16(a), nil
}
