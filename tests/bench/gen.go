package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// The clickstream the bench writes. Event i happens at baseTime + i ms (1000
// events per second of event time) minus up to maxSkewMs of random lateness,
// so event time increases along each partition with small disorder. Pages
// follow a Zipf law over numPages paths, users are uniform over numUsers.
const (
	numPages  = 100
	numUsers  = 100_000
	maxSkewMs = 500
	// zipfS is the Zipf exponent: the top page gets about a fifth of the
	// clicks, the last one a few hundred per million.
	zipfS = 1.2
	seed  = 20261123
)

var baseTime = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()

var (
	pages     [numPages]string
	referrers = []string{"https://ex.com/", "https://www.google.com/", "https://news.ex.org/", "https://t.co/x", ""}
	userAgent = []string{"Mozilla/5.0", "Mozilla/5.0 (X11)", "curl/8.5.0", "Safari/17.1"}
)

func init() {
	for i := range pages {
		pages[i] = "/p/" + strconv.Itoa(i)
	}
}

// windowKey names one group of the tumble-count query: a page and the start
// of its one-minute window, in epoch milliseconds.
type windowKey struct {
	page   string
	window int64
}

// generator produces the messages in order and tallies what the query must
// return for them.
type generator struct {
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

func newGenerator(partitions int) *generator {
	rnd := rand.New(rand.NewPCG(seed, seed))
	g := &generator{
		rnd:      rnd,
		zipf:     rand.NewZipf(rnd, zipfS, 1, numPages-1),
		expected: make(map[windowKey]int64),
		maxTs:    make([]int64, partitions),
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
	ts := baseTime + g.n - g.rnd.Int64N(maxSkewMs)
	if p := g.n % int64(len(g.maxTs)); ts > g.maxTs[p] {
		g.maxTs[p] = ts
	}
	g.n++
	page := pages[g.zipf.Uint64()]
	g.expected[windowKey{page, ts - ts%60_000}]++

	start := len(buf)
	buf = append(buf, `{"user_id":`...)
	buf = strconv.AppendInt(buf, g.rnd.Int64N(numUsers), 10)
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

// arena hands out value buffers carved from large chunks, so producing
// millions of messages costs a few hundred allocations instead of millions.
// A chunk is never reused: the producer may hold any value until the broker
// acknowledges it.
type arena struct{ chunk []byte }

const arenaChunk = 4 << 20

// value generates the next event into the arena and returns it.
func (a *arena) value(g *generator) []byte {
	if cap(a.chunk)-len(a.chunk) < 512 {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = g.next(a.chunk)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}
