package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// The clickstream the bench writes. Event i happens at baseTime + i ms (1000
// events per second of event time) minus up to disorder ms of random
// lateness, so event time increases along each partition with small
// disorder. Pages follow a Zipf law over `pages` paths (or are uniform with
// skew 0), users are uniform over `users`. The flags -keys, -users, -skew
// and -disorder set these; the defaults below are the data `make bench` has
// always used.
const (
	defaultPages    = 100
	defaultUsers    = 100_000
	defaultDisorder = 500 * time.Millisecond
	// defaultSkew is the Zipf exponent: with 100 pages the top page gets
	// about a fifth of the clicks, the last one a few hundred per million.
	defaultSkew = 1.2
	seed        = 20261123
	// windowMs is the tumble-count query's window: one minute.
	windowMs = 60_000
)

var baseTime = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()

var (
	referrers = []string{"https://ex.com/", "https://www.google.com/", "https://news.ex.org/", "https://t.co/x", ""}
	userAgent = []string{"Mozilla/5.0", "Mozilla/5.0 (X11)", "curl/8.5.0", "Safari/17.1"}
)

// genConfig is the shape of the clickstream.
type genConfig struct {
	Pages int `json:"pages"`
	Users int `json:"users"`
	// Skew is the Zipf exponent s of the pages (> 1), or 0 for uniform.
	Skew float64 `json:"skew"`
	// DisorderMs is the most an event's time is set back (0: in order).
	DisorderMs int64 `json:"disorder_ms"`
	// WindowMs is the window the expected groups are counted in.
	WindowMs int64 `json:"window_ms"`
}

func (c genConfig) String() string {
	dist := fmt.Sprintf("Zipf s=%g", c.Skew)
	if c.Skew == 0 {
		dist = "uniform"
	}
	order := "in order"
	if c.DisorderMs > 0 {
		order = fmt.Sprintf("up to %d ms of disorder", c.DisorderMs)
	}
	return fmt.Sprintf("%d pages (%s), %s users (uniform), %s", c.Pages, dist, commas(float64(c.Users)), order)
}

// windowKey names one group of the tumble-count query: a page and the start
// of its window, in epoch milliseconds.
type windowKey struct {
	page   string
	window int64
}

// generator produces the messages in order and tallies what the query must
// return for them.
type generator struct {
	cfg      genConfig
	pages    []string
	rnd      *rand.Rand
	zipf     *rand.Zipf
	n        int64
	expected map[windowKey]int64
	bytes    int64
	// maxTs is the largest event time written to each partition (event i
	// goes to partition i mod partitions, as both producers place them;
	// math.MinInt64 for a partition that got nothing): the watermark a
	// continuous query reaches, and so which windows a sink has closed.
	maxTs []int64
}

func newGenerator(cfg genConfig, partitions int) *generator {
	rnd := rand.New(rand.NewPCG(seed, seed))
	g := &generator{
		cfg:      cfg,
		rnd:      rnd,
		expected: make(map[windowKey]int64),
		maxTs:    make([]int64, partitions),
	}
	if cfg.WindowMs <= 0 {
		g.cfg.WindowMs = windowMs
	}
	for i := 0; i < cfg.Pages; i++ {
		g.pages = append(g.pages, "/p/"+strconv.Itoa(i))
	}
	if cfg.Skew > 0 && cfg.Pages > 1 {
		g.zipf = rand.NewZipf(rnd, cfg.Skew, 1, uint64(cfg.Pages-1))
	}
	for i := range g.maxTs {
		g.maxTs[i] = math.MinInt64
	}
	return g
}

// next appends the JSON value of the next event to buf, e.g.
//
//	{"user_id":4821,"page":"/p/17","ts":"2026-11-23T10:01:00.123Z","referrer":"https://ex.com/","ua":"Mozilla/5.0"}
func (g *generator) next(buf []byte) []byte {
	ts := baseTime + g.n
	if g.cfg.DisorderMs > 0 {
		ts -= g.rnd.Int64N(g.cfg.DisorderMs)
	}
	return g.nextAt(buf, ts)
}

// nextAt appends the next event with event time ts (epoch ms).
func (g *generator) nextAt(buf []byte, ts int64) []byte {
	if p := g.n % int64(len(g.maxTs)); ts > g.maxTs[p] {
		g.maxTs[p] = ts
	}
	g.n++
	var page string
	switch {
	case g.zipf != nil:
		page = g.pages[g.zipf.Uint64()]
	case len(g.pages) > 1:
		page = g.pages[g.rnd.IntN(len(g.pages))]
	default:
		page = g.pages[0]
	}
	g.expected[windowKey{page, ts - ts%g.cfg.WindowMs}]++

	start := len(buf)
	buf = append(buf, `{"user_id":`...)
	buf = strconv.AppendInt(buf, g.rnd.Int64N(int64(g.cfg.Users)), 10)
	buf = append(buf, `,"page":"`...)
	buf = append(buf, page...)
	buf = append(buf, `","ts":"`...)
	buf = appendTimestamp(buf, ts)
	buf = append(buf, `","referrer":"`...)
	buf = append(buf, referrers[g.rnd.IntN(len(referrers))]...)
	buf = append(buf, `","ua":"`...)
	buf = append(buf, userAgent[g.rnd.IntN(len(userAgent))]...)
	buf = append(buf, `"}`...)
	g.bytes += int64(len(buf) - start)
	return buf
}

// appendTimestamp writes ms as 2006-01-02T15:04:05.000Z. It formats the
// fields by hand: time.AppendFormat would be a noticeable share of the
// producer's CPU at millions of events.
func appendTimestamp(buf []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	buf = appendDigits(buf, y, 4)
	buf = append(buf, '-')
	buf = appendDigits(buf, int(mo), 2)
	buf = append(buf, '-')
	buf = appendDigits(buf, d, 2)
	buf = append(buf, 'T')
	buf = appendDigits(buf, h, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, mi, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, s, 2)
	buf = append(buf, '.')
	buf = appendDigits(buf, int(ms%1000), 3)
	return append(buf, 'Z')
}

func appendDigits(buf []byte, v, width int) []byte {
	var tmp [4]byte
	for i := width - 1; i >= 0; i-- {
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(buf, tmp[:width]...)
}

// valueSource appends the JSON value of the next event to a buffer: the
// clickstream generator, or the Nexmark one (nexmark.go).
type valueSource interface {
	next(buf []byte) []byte
}

// arena hands out value buffers carved from large chunks, so producing
// millions of messages costs a few hundred allocations instead of millions.
// A chunk is never reused: the producer may hold any value until the broker
// acknowledges it.
type arena struct{ chunk []byte }

const (
	arenaChunk = 4 << 20
	// arenaRoom is the free space below which a new chunk is started: more
	// than any event takes (a Nexmark auction is about 700 bytes); a larger
	// one would still be correct, only copied.
	arenaRoom = 2048
)

// value generates the next event into the arena and returns it.
func (a *arena) value(src valueSource) []byte {
	if cap(a.chunk)-len(a.chunk) < arenaRoom {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = src.next(a.chunk)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}

// add is value for a function that appends the event.
func (a *arena) add(gen func([]byte) []byte) []byte {
	if cap(a.chunk)-len(a.chunk) < arenaRoom {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = gen(a.chunk)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}
