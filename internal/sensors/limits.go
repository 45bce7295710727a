package sensors

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"sync"
)

// Limit is one of a sensor's own limits as its driver reports it, in the
// base unit of the sensor's kind: a hwmon limit attribute (min, max, lcrit,
// crit, emergency) or, for a thermal zone, the lowest trip point of each
// type (active, passive, hot, critical).
type Limit struct {
	Type  string
	Value float64
}

// Limits are a sensor's limits sorted by Type. In JSON they are an object
// from type to value, e.g. {"crit":100,"max":80}.
type Limits []Limit

// MarshalJSON writes the limits as one object, in Type order. Types are the
// fixed words above, so they need no escaping; numbers are written as
// encoding/json writes a float64.
func (l Limits) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+16*len(l))
	b = append(b, '{')
	for i, x := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), x.Type...), '"', ':')
		b = appendFloat(b, x.Value)
	}
	return append(b, '}'), nil
}

// appendFloat formats f as encoding/json does: shortest 'f' form, or 'e'
// for very small or large magnitudes. Limits are range-checked, never NaN
// or infinite.
func appendFloat(b []byte, f float64) []byte {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// A two-digit negative exponent loses its leading zero: 1e-07 is 1e-7.
		if n := len(b); n >= 4 && string(b[n-4:n-1]) == "e-0" {
			b = append(b[:n-2], b[n-1])
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// DefaultLimitEvery is how many polls a sensor's limits are kept before
// they are read again. Limits change only when someone writes them, and on
// an I2C chip every attribute read can be a bus transaction: at the default
// 5 s poll interval a changed limit shows within a minute.
const DefaultLimitEvery = 12

// limitCache keeps each sensor's limits between polls. A source calls
// next once per Read, then get for each sensor it read.
type limitCache struct {
	mu    sync.Mutex
	every uint64
	poll  uint64
	m     map[string]cachedLimits
}

type cachedLimits struct {
	limits Limits
	read   uint64 // poll of the last read
	used   uint64 // last poll that asked for them
}

func newLimitCache(every int) *limitCache {
	if every <= 0 {
		every = DefaultLimitEvery
	}
	return &limitCache{every: uint64(every), m: map[string]cachedLimits{}}
}

// next starts a poll; every `every` polls it forgets sensors no poll of
// the last period asked for (unplugged chips, failing readings).
func (c *limitCache) next() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.poll++
	if c.poll%c.every != 0 {
		return
	}
	for name, e := range c.m {
		if c.poll-e.used >= c.every {
			delete(c.m, name)
		}
	}
}

// get returns the limits of the sensor called name, calling read for them
// on its first poll and then once every `every` polls. read reports its own
// failures; it runs without the lock held, as it reads sysfs. What a read
// cut short by the end of ctx found is returned but not kept.
func (c *limitCache) get(ctx context.Context, name string, read func() Limits) Limits {
	c.mu.Lock()
	e, ok := c.m[name]
	poll := c.poll
	c.mu.Unlock()
	if !ok || poll-e.read >= c.every {
		fresh := read()
		if ctx.Err() != nil {
			return fresh
		}
		e = cachedLimits{limits: fresh, read: poll}
	}
	e.used = poll
	c.mu.Lock()
	c.m[name] = e
	c.mu.Unlock()
	return e.limits
}

// sortLimits orders limits by type, as Limits are kept.
func sortLimits(l Limits) {
	slices.SortFunc(l, func(a, b Limit) int { return cmp.Compare(a.Type, b.Type) })
}
