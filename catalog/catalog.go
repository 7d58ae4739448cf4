// Package catalog keeps StreamSQL's persistent metadata: the streams users
// declared and the sinks (continuous queries) they started. It is a small,
// durable map of definitions, saved as one JSON document under the data
// directory and replaced atomically on every change.
//
// It does not validate SQL or talk to Kafka; the engine does both before it
// records a definition here.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/streamsql/streamsql/sql/types"
)

// Column is one column of a stream: a column decoded from each message, or
// a computed one. A ROW column is stored as its leaves, one Column each,
// named "bid.auction" after the path to them.
type Column struct {
	Name string     `json:"name"`
	Type types.Type `json:"type"`
	// Path is the JSON path of a leaf of a ROW column (["bid", "auction"]);
	// empty means [Name].
	Path []string `json:"path,omitempty"`
	// Expr is the SQL text of a computed column (`name AS expr`), evaluated
	// over the decoded columns; empty for a decoded column.
	Expr string `json:"expr,omitempty"`
}

// Computed reports whether the column is computed rather than decoded.
func (c Column) Computed() bool { return c.Expr != "" }

// Stream is a named, typed view of a Kafka topic.
type Stream struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
	Topic   string   `json:"topic"`
	// Format is the value format: "json".
	Format string `json:"format"`
	// Timestamp names the event-time column; empty means the Kafka record
	// timestamp is the event time.
	Timestamp string `json:"timestamp,omitempty"`
	// WatermarkDelay is how far (ms) the watermark trails the largest event
	// time seen on a partition.
	WatermarkDelay int64 `json:"watermark_delay_ms"`
	// IdleTimeout (ms) is how long a partition may stay silent before it
	// stops holding back the watermark.
	IdleTimeout int64 `json:"idle_timeout_ms"`
	// StartFrom is where a new query starts reading: "earliest", "latest", or
	// an epoch-ms timestamp as decimal text.
	StartFrom string `json:"start_from"`
	// Query is the SELECT text behind a stream made by CREATE STREAM ... AS
	// SELECT; empty for a stream declared over an existing topic.
	Query string `json:"query,omitempty"`
	// KeyColumns names the columns forming the Kafka key of a derived stream.
	KeyColumns []string `json:"key_columns,omitempty"`
}

// Column returns the index of the named column (case-insensitive), or -1.
func (s *Stream) Column(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	for i, c := range s.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// Sink is a continuous query writing its results to a Kafka topic.
type Sink struct {
	Name  string `json:"name"`
	Topic string `json:"topic"`
	// Format is the value format of the output records: "json".
	Format string `json:"format"`
	// Query is the SELECT text as the user wrote it.
	Query string `json:"query"`
	// ID names the sink's state and offsets in the state store. It is unique
	// over the catalog's lifetime, so a sink dropped and created again with
	// the same name starts from fresh state.
	ID string `json:"id"`
	// Stream is set when the sink materialises a stream created with
	// CREATE STREAM ... AS SELECT.
	Stream string `json:"stream,omitempty"`
	// Sources names the streams the query reads.
	Sources []string  `json:"sources"`
	Created time.Time `json:"created"`
	// Options holds the remaining WITH options as given (lower-case keys).
	Options map[string]string `json:"options,omitempty"`
}

// View is a named SELECT, expanded into the queries that read it.
type View struct {
	Name string `json:"name"`
	// Query is the SELECT text as the user wrote it.
	Query   string   `json:"query"`
	Columns []Column `json:"columns"`
	// Sources names the streams (and views) the query reads.
	Sources []string `json:"sources"`
}

// Errors returned by Catalog methods.
var (
	ErrExists   = errors.New("catalog: object already exists")
	ErrNotFound = errors.New("catalog: object not found")
)

// Catalog is the durable set of streams and sinks. It is safe for concurrent
// use; mu guards the maps and serialises saves.
type Catalog struct {
	path string

	mu      sync.Mutex
	streams map[string]*Stream
	sinks   map[string]*Sink
	views   map[string]*View
	nextID  int64
}

type document struct {
	Streams []*Stream `json:"streams"`
	Sinks   []*Sink   `json:"sinks"`
	Views   []*View   `json:"views,omitempty"`
	NextID  int64     `json:"next_id"`
}

// Open loads the catalog stored in dir (creating an empty one if none).
func Open(dir string) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{path: filepath.Join(dir, "catalog.json"), streams: map[string]*Stream{}, sinks: map[string]*Sink{}, views: map[string]*View{}}
	data, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("catalog: %s is corrupt: %w", c.path, err)
	}
	for _, s := range doc.Streams {
		c.streams[s.Name] = s
	}
	for _, s := range doc.Sinks {
		c.sinks[s.Name] = s
	}
	for _, v := range doc.Views {
		c.views[v.Name] = v
	}
	c.nextID = doc.NextID
	return c, nil
}

// save writes the whole catalog to a temporary file, syncs it and renames it
// over the old one, so a crash leaves either the old or the new catalog.
// Callers hold mu.
func (c *Catalog) save() error {
	doc := document{NextID: c.nextID}
	for _, s := range c.streams {
		doc.Streams = append(doc.Streams, s)
	}
	for _, s := range c.sinks {
		doc.Sinks = append(doc.Sinks, s)
	}
	for _, v := range c.views {
		doc.Views = append(doc.Views, v)
	}
	sort.Slice(doc.Views, func(i, j int) bool { return doc.Views[i].Name < doc.Views[j].Name })
	sort.Slice(doc.Streams, func(i, j int) bool { return doc.Streams[i].Name < doc.Streams[j].Name })
	sort.Slice(doc.Sinks, func(i, j int) bool { return doc.Sinks[i].Name < doc.Sinks[j].Name })
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp := c.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("catalog: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("catalog: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	return nil
}

// Stream returns the named stream.
func (c *Catalog) Stream(name string) (*Stream, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.streams[name]
	return s, ok
}

// Streams returns all streams sorted by name.
func (c *Catalog) Streams() []*Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Stream, 0, len(c.streams))
	for _, s := range c.streams {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Sink returns the named sink.
func (c *Catalog) Sink(name string) (*Sink, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sinks[name]
	return s, ok
}

// Sinks returns all sinks sorted by name.
func (c *Catalog) Sinks() []*Sink {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Sink, 0, len(c.sinks))
	for _, s := range c.sinks {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// nameTaken reports whether a stream or sink already uses name: both share
// one namespace so DESCRIBE and DROP are unambiguous. Callers hold mu.
func (c *Catalog) nameTaken(name string) bool {
	_, s := c.streams[name]
	_, k := c.sinks[name]
	_, v := c.views[name]
	return s || k || v
}

// View returns the named view.
func (c *Catalog) View(name string) (*View, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.views[name]
	return v, ok
}

// Views returns all views sorted by name.
func (c *Catalog) Views() []*View {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*View, 0, len(c.views))
	for _, v := range c.views {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CreateView records a view.
func (c *Catalog) CreateView(v *View) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nameTaken(v.Name) {
		return fmt.Errorf("%w: %q", ErrExists, v.Name)
	}
	c.views[v.Name] = v
	if err := c.save(); err != nil {
		delete(c.views, v.Name)
		return err
	}
	return nil
}

// DropView removes a view.
func (c *Catalog) DropView(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.views[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	delete(c.views, name)
	if err := c.save(); err != nil {
		c.views[name] = v
		return err
	}
	return nil
}

// Create records a stream, a sink, or both at once (CREATE STREAM ... AS
// SELECT makes a stream and the sink that fills it). A sink gets a fresh ID.
func (c *Catalog) Create(stream *Stream, sink *Sink) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stream != nil && c.nameTaken(stream.Name) {
		return fmt.Errorf("%w: %q", ErrExists, stream.Name)
	}
	if sink != nil && (c.nameTaken(sink.Name) || stream != nil && stream.Name == sink.Name) {
		return fmt.Errorf("%w: %q", ErrExists, sink.Name)
	}
	if sink != nil {
		c.nextID++
		sink.ID = fmt.Sprintf("%s-%d", sink.Name, c.nextID)
		c.sinks[sink.Name] = sink
	}
	if stream != nil {
		c.streams[stream.Name] = stream
	}
	if err := c.save(); err != nil {
		if sink != nil {
			delete(c.sinks, sink.Name)
		}
		if stream != nil {
			delete(c.streams, stream.Name)
		}
		return err
	}
	return nil
}

// DropStream removes a stream (and the sink filling it, if it is derived).
func (c *Catalog) DropStream(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.streams[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	delete(c.streams, name)
	var filling *Sink
	for _, k := range c.sinks {
		if k.Stream == name {
			filling = k
			delete(c.sinks, k.Name)
		}
	}
	if err := c.save(); err != nil {
		c.streams[name] = s
		if filling != nil {
			c.sinks[filling.Name] = filling
		}
		return err
	}
	return nil
}

// DropSink removes a sink.
func (c *Catalog) DropSink(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sinks[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	delete(c.sinks, name)
	if err := c.save(); err != nil {
		c.sinks[name] = s
		return err
	}
	return nil
}
