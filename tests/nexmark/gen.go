// Package nexmark is a deterministic generator of Nexmark events, in the
// JSON shape of the Flink Nexmark suite's Kafka table (shared/bench/nexmark/ddl_kafka.sql):
//
//	{"event_type": 0|1|2, "person": {...}|null, "auction": {...}|null, "bid": {...}|null}
//
// It follows the reference generator (github.com/nexmark/nexmark,
// nexmark-flink's NexmarkGenerator and its Person/Auction/Bid generators)
// in what the queries see: the event mix person:auction:bid = 1:3:46 by
// event number, ids counted from 1000 with hot sellers, bidders and
// auctions (1 in 100 picks a random recent one instead), prices
// round(10^(6u)·100), the four hot channels and 1 in 100 bids on one of
// 10,000 other channels whose URL carries a channel_id 9 times in 10, and
// extra padding to the reference's average event sizes. It simplifies
// what no query here reads: an auction's expiry and the rate shape (event
// times come from Config.EventTime). Given the same config it
// produces the same events.
//
// tests/e2e (nexmark_test.go) checks query results on its events and
// tests/bench (-suite nexmark) measures the queries' throughput on them.
package nexmark

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"time"
)

// Nexmark event types, the values of event_type.
const (
	Person  = 0
	Auction = 1
	Bid     = 2
)

// The reference generator's constants.
const (
	firstPersonID   = 1000
	firstAuctionID  = 1000
	firstCategoryID = 10
	numCategories   = 5
	personShare     = 1
	auctionShare    = 3
	totalShare      = 50 // person + auction + bid (46)
	activePeople    = 1000
	inFlightAuction = 100
	personIDLead    = 10
	auctionIDLead   = 10
	hotRatio        = 100 // hot sellers, bidders and auctions
	hotChannelRatio = 100
	channels        = 10_000
	avgPersonBytes  = 200
	avgAuctionBytes = 500
	avgBidBytes     = 100
)

var (
	hotChannels = [4]string{"Google", "Facebook", "Baidu", "Apple"}
	firstNames  = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames   = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	states      = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	cities      = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond",
		"Seattle", "Kent", "Cheyenne"}
)

// Config configures a generator.
type Config struct {
	// Seed seeds the random choices.
	Seed uint64
	// EventTime returns the event time (epoch ms) of event number i. Nil
	// means one event every 100 ms from 2026-11-23T00:00:00Z.
	EventTime func(i int64) int64
}

// Time is an event time, written in JSON as Flink's JSON format
// writes a TIMESTAMP(3): "2026-11-23 10:00:00.123" (UTC).
type Time int64

func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.UnixMilli(int64(t)).UTC().Format("2006-01-02 15:04:05.000") + `"`), nil
}

// PersonEvent is a new person.
type PersonEvent struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	EmailAddress string `json:"emailAddress"`
	CreditCard   string `json:"creditCard"`
	City         string `json:"city"`
	State        string `json:"state"`
	DateTime     Time   `json:"dateTime"`
	Extra        string `json:"extra"`
}

// AuctionEvent is a new auction.
type AuctionEvent struct {
	ID          int64  `json:"id"`
	ItemName    string `json:"itemName"`
	Description string `json:"description"`
	InitialBid  int64  `json:"initialBid"`
	Reserve     int64  `json:"reserve"`
	DateTime    Time   `json:"dateTime"`
	Expires     Time   `json:"expires"`
	Seller      int64  `json:"seller"`
	Category    int64  `json:"category"`
	Extra       string `json:"extra"`
}

// BidEvent is a bid on an auction.
type BidEvent struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	Channel  string `json:"channel"`
	URL      string `json:"url"`
	DateTime Time   `json:"dateTime"`
	Extra    string `json:"extra"`
}

// Event is one event: exactly one of Person, Auction, Bid is set,
// as Type says.
type Event struct {
	Type    int           `json:"event_type"`
	Person  *PersonEvent  `json:"person"`
	Auction *AuctionEvent `json:"auction"`
	Bid     *BidEvent     `json:"bid"`
}

// Time returns the event's time in epoch ms.
func (e Event) Time() int64 {
	switch e.Type {
	case Person:
		return int64(e.Person.DateTime)
	case Auction:
		return int64(e.Auction.DateTime)
	}
	return int64(e.Bid.DateTime)
}

// JSON returns the event as the Kafka table's JSON message.
func (e Event) JSON() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // the types above always marshal
	}
	return b
}

// Generator produces events in order. It is not safe for concurrent
// use.
type Generator struct {
	cfg  Config
	r    *rand.Rand
	next int64
	// hotURLs are the hot channels' URLs; channels caches the other
	// channels' names and URLs by channel number, so a channel keeps its URL.
	hotURLs  [4]string
	channels map[int][2]string
}

// NewGenerator returns a generator starting at event 0.
func NewGenerator(cfg Config) *Generator {
	if cfg.EventTime == nil {
		base := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixMilli()
		cfg.EventTime = func(i int64) int64 { return base + 100*i }
	}
	g := &Generator{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x6e65786d61726b)), channels: map[int][2]string{}}
	for i := range g.hotURLs {
		g.hotURLs[i] = g.baseURL()
	}
	return g
}

// Generate returns the first n events of cfg's generator.
func Generate(cfg Config, n int) []Event {
	g := NewGenerator(cfg)
	out := make([]Event, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// Next returns the next event.
func (g *Generator) Next() Event {
	id := g.next
	g.next++
	ts := g.cfg.EventTime(id)
	switch rem := id % totalShare; {
	case rem < personShare:
		return Event{Type: Person, Person: g.person(id, ts)}
	case rem < personShare+auctionShare:
		return Event{Type: Auction, Auction: g.auction(id, ts)}
	}
	return Event{Type: Bid, Bid: g.bid(id, ts)}
}

func (g *Generator) person(id, ts int64) *PersonEvent {
	p := &PersonEvent{
		ID:           lastBase0PersonID(id) + firstPersonID,
		Name:         firstNames[g.r.IntN(len(firstNames))] + " " + lastNames[g.r.IntN(len(lastNames))],
		EmailAddress: g.nextString(7, ' ') + "@" + g.nextString(5, ' ') + ".com",
		CreditCard: fmt.Sprintf("%04d %04d %04d %04d", g.r.IntN(10000), g.r.IntN(10000),
			g.r.IntN(10000), g.r.IntN(10000)),
		City:     cities[g.r.IntN(len(cities))],
		State:    states[g.r.IntN(len(states))],
		DateTime: Time(ts),
	}
	size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = g.nextExtra(size, avgPersonBytes)
	return p
}

func (g *Generator) auction(id, ts int64) *AuctionEvent {
	a := &AuctionEvent{ID: lastBase0AuctionID(id) + firstAuctionID, DateTime: Time(ts)}
	if g.r.IntN(hotRatio) > 0 {
		// The first person of the last batch of hotRatio people.
		a.Seller = lastBase0PersonID(id) / hotRatio * hotRatio
	} else {
		a.Seller = g.nextBase0PersonID(id)
	}
	a.Seller += firstPersonID
	a.Category = firstCategoryID + int64(g.r.IntN(numCategories))
	a.InitialBid = g.nextPrice()
	// The reference derives the length from the event rate; any positive
	// length will do for the queries that run here.
	a.Expires = Time(ts + 10_000 + g.r.Int64N(20*60_000))
	a.ItemName = g.nextString(20, ' ')
	a.Description = g.nextString(100, ' ')
	a.Reserve = a.InitialBid + g.nextPrice()
	size := 8 + len(a.ItemName) + len(a.Description) + 8 + 8 + 8 + 8 + 8
	a.Extra = g.nextExtra(size, avgAuctionBytes)
	return a
}

func (g *Generator) bid(id, ts int64) *BidEvent {
	b := &BidEvent{DateTime: Time(ts)}
	if g.r.IntN(hotRatio) > 0 {
		// The first auction of the last batch of hotRatio auctions.
		b.Auction = lastBase0AuctionID(id) / hotRatio * hotRatio
	} else {
		b.Auction = g.nextBase0AuctionID(id)
	}
	b.Auction += firstAuctionID
	if g.r.IntN(hotRatio) > 0 {
		// The second person of the last batch, so that hot bidders and
		// hot sellers differ.
		b.Bidder = lastBase0PersonID(id)/hotRatio*hotRatio + 1
	} else {
		b.Bidder = g.nextBase0PersonID(id)
	}
	b.Bidder += firstPersonID
	b.Price = g.nextPrice()
	channel := g.r.IntN(channels)
	if g.r.IntN(hotChannelRatio) > 0 {
		i := g.r.IntN(len(hotChannels))
		b.Channel, b.URL = hotChannels[i], g.hotURLs[i]
	} else {
		c, ok := g.channels[channel]
		if !ok {
			url := g.baseURL()
			if g.r.IntN(10) > 0 {
				// Java's Math.abs(Integer.reverse(channel)), which leaves
				// Integer.MIN_VALUE negative.
				rev := int32(bits.Reverse32(uint32(channel)))
				if rev < 0 && rev != math.MinInt32 {
					rev = -rev
				}
				url += fmt.Sprintf("&channel_id=%d", rev)
			}
			c = [2]string{fmt.Sprintf("channel-%d", channel), url}
			g.channels[channel] = c
		}
		b.Channel, b.URL = c[0], c[1]
	}
	b.Extra = g.nextExtra(32, avgBidBytes)
	return b
}

// lastBase0PersonID is the id (from 0) of the last person generated at or
// before event id.
func lastBase0PersonID(id int64) int64 {
	epoch, offset := id/totalShare, id%totalShare
	if offset >= personShare {
		offset = personShare - 1
	}
	return epoch*personShare + offset
}

// lastBase0AuctionID is the id (from 0) of the last auction generated at
// or before event id.
func lastBase0AuctionID(id int64) int64 {
	epoch, offset := id/totalShare, id%totalShare
	switch {
	case offset < personShare:
		epoch--
		offset = auctionShare - 1
	case offset >= personShare+auctionShare:
		offset = auctionShare - 1
	default:
		offset -= personShare
	}
	return epoch*auctionShare + offset
}

// nextBase0PersonID picks one of the active people, or one a little ahead.
func (g *Generator) nextBase0PersonID(id int64) int64 {
	people := lastBase0PersonID(id) + 1
	active := min(people, activePeople)
	return people - active + g.r.Int64N(active+personIDLead)
}

// nextBase0AuctionID picks one of the auctions likely still open, or one a
// little ahead.
func (g *Generator) nextBase0AuctionID(id int64) int64 {
	last := lastBase0AuctionID(id)
	lo := max(last-inFlightAuction, 0)
	return lo + g.r.Int64N(last-lo+1+auctionIDLead)
}

// nextPrice is a price in cents, log-uniform from 1 to a million dollars.
func (g *Generator) nextPrice() int64 {
	return int64(math.Round(math.Pow(10, g.r.Float64()*6) * 100))
}

// nextString is a string of 3 to maxLen-1 letters, each position being
// special 1 time in 13, trimmed of spaces.
func (g *Generator) nextString(maxLen int, special byte) string {
	n := 3 + g.r.IntN(maxLen-3)
	b := make([]byte, n)
	for i := range b {
		if g.r.IntN(13) == 0 {
			b[i] = special
		} else {
			b[i] = byte('a' + g.r.IntN(26))
		}
	}
	return strings.TrimSpace(string(b))
}

// nextExtra pads an event of size bytes towards an average of avg bytes.
func (g *Generator) nextExtra(size, avg int) string {
	if size > avg {
		return ""
	}
	avg -= size
	delta := int(math.Round(float64(avg) * 0.2))
	n := avg - delta
	if delta > 0 {
		n += g.r.IntN(2 * delta)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.r.IntN(26))
	}
	return string(b)
}

// baseURL is a URL with three random directories, as the reference's.
func (g *Generator) baseURL() string {
	return "https://www.nexmark.com/" + g.nextString(5, '_') + "/" + g.nextString(5, '_') + "/" +
		g.nextString(5, '_') + "/item.htm?query=1"
}
