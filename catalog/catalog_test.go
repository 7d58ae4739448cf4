package catalog_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/sql/types"
)

func open(t *testing.T, dir string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return c
}

func clicks() *catalog.Stream {
	return &catalog.Stream{
		Name: "clicks", Topic: "clicks", Format: "json",
		Columns: []catalog.Column{
			{Name: "user_id", Type: types.Bigint},
			{Name: "page", Type: types.Varchar},
			{Name: "ts", Type: types.Timestamp},
		},
		Timestamp: "ts", WatermarkDelay: 5000, IdleTimeout: 5000, StartFrom: "earliest",
	}
}

func sink(name string) *catalog.Sink {
	return &catalog.Sink{
		Name: name, Topic: name + "-out", Format: "json",
		Query:   "SELECT page, count(*) FROM clicks GROUP BY page",
		Sources: []string{"clicks"},
		Created: time.Date(2026, 11, 23, 10, 1, 0, 0, time.UTC),
	}
}

func streamNames(c *catalog.Catalog) []string {
	var out []string
	for _, s := range c.Streams() {
		out = append(out, s.Name)
	}
	return out
}

func sinkNames(c *catalog.Catalog) []string {
	var out []string
	for _, s := range c.Sinks() {
		out = append(out, s.Name)
	}
	return out
}

func TestOpenEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	c := open(t, dir) // creates the directory
	if len(c.Streams()) != 0 || len(c.Sinks()) != 0 {
		t.Fatalf("new catalog not empty: %v %v", streamNames(c), sinkNames(c))
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Open did not create %s: %v", dir, err)
	}
	// Nothing is written until something changes.
	if _, err := os.Stat(filepath.Join(dir, "catalog.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("catalog.json exists before any change: %v", err)
	}
}

func TestCreateListDrop(t *testing.T) {
	c := open(t, t.TempDir())
	orders := &catalog.Stream{Name: "orders", Topic: "orders", Format: "json", StartFrom: "latest",
		Columns: []catalog.Column{{Name: "id", Type: types.Bigint}}}
	for _, s := range []*catalog.Stream{orders, clicks()} {
		if err := c.Create(s, nil); err != nil {
			t.Fatalf("Create(%s): %v", s.Name, err)
		}
	}
	if got, want := streamNames(c), []string{"clicks", "orders"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Streams() = %v, want %v (sorted)", got, want)
	}
	if s, ok := c.Stream("clicks"); !ok || s.Topic != "clicks" || s.Timestamp != "ts" {
		t.Errorf("Stream(clicks) = %+v, %v", s, ok)
	}
	if _, ok := c.Stream("CLICKS"); ok {
		t.Error("Stream lookup is case-sensitive; the planner folds names itself")
	}

	for _, n := range []string{"top_pages", "alerts"} {
		if err := c.Create(nil, sink(n)); err != nil {
			t.Fatalf("Create sink %s: %v", n, err)
		}
	}
	if got, want := sinkNames(c), []string{"alerts", "top_pages"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Sinks() = %v, want %v (sorted)", got, want)
	}
	if k, ok := c.Sink("top_pages"); !ok || k.ID == "" || k.Topic != "top_pages-out" {
		t.Errorf("Sink(top_pages) = %+v, %v", k, ok)
	}

	if err := c.DropSink("alerts"); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Sink("alerts"); ok {
		t.Error("dropped sink still there")
	}
	if err := c.DropStream("orders"); err != nil {
		t.Fatal(err)
	}
	if got, want := streamNames(c), []string{"clicks"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after drop: Streams() = %v, want %v", got, want)
	}

	for _, err := range []error{c.DropSink("alerts"), c.DropSink("nope"), c.DropStream("orders"), c.DropStream("top_pages")} {
		if !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("drop of a missing object: %v, want ErrNotFound", err)
		}
	}
	// DropSink does not drop a stream of that name and vice versa.
	if err := c.DropSink("clicks"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("DropSink(stream name) = %v, want ErrNotFound", err)
	}
	if _, ok := c.Stream("clicks"); !ok {
		t.Error("DropSink removed a stream")
	}
}

// TestSharedNamespace: streams and sinks share one namespace, so DESCRIBE
// and DROP are never ambiguous.
func TestSharedNamespace(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	if err := c.Create(clicks(), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(nil, sink("pages")); err != nil {
		t.Fatal(err)
	}
	before, _ := c.Sink("pages")
	beforeID := before.ID

	cases := []struct {
		name   string
		stream *catalog.Stream
		sink   *catalog.Sink
	}{
		{"stream over stream", clicks(), nil},
		{"sink over stream", nil, sink("clicks")},
		{"stream over sink", &catalog.Stream{Name: "pages", Topic: "p", Format: "json"}, nil},
		{"sink over sink", nil, sink("pages")},
		{"derived stream whose stream name is taken", clicks(), sink("_stream_clicks")},
		{"derived stream whose sink name is taken", &catalog.Stream{Name: "fresh", Topic: "f", Format: "json"}, sink("pages")},
		{"stream and sink of the same name at once", &catalog.Stream{Name: "twin", Topic: "t", Format: "json"}, sink("twin")},
	}
	for _, tc := range cases {
		err := c.Create(tc.stream, tc.sink)
		if !errors.Is(err, catalog.ErrExists) {
			t.Errorf("%s: err = %v, want ErrExists", tc.name, err)
		}
	}
	// Nothing of the refused creates was recorded.
	if got, want := streamNames(c), []string{"clicks"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Streams() = %v, want %v", got, want)
	}
	if got, want := sinkNames(c), []string{"pages"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Sinks() = %v, want %v", got, want)
	}
	if after, _ := c.Sink("pages"); after.ID != beforeID || after.Topic != "pages-out" {
		t.Errorf("existing sink changed by a refused create: %+v", after)
	}
	if err := c.Create(clicks(), nil); err == nil || !strings.Contains(err.Error(), `"clicks"`) {
		t.Errorf("ErrExists should name the object: %v", err)
	}
	// The refusals survive a reopen: nothing half-written.
	c2 := open(t, dir)
	if got := len(c2.Streams()) + len(c2.Sinks()); got != 2 {
		t.Errorf("reopened catalog has %d objects, want 2", got)
	}
}

func TestSinkIDsUniqueOverLifetime(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	seen := map[string]string{}
	record := func(k *catalog.Sink) {
		t.Helper()
		if k.ID == "" {
			t.Fatalf("sink %s has no ID", k.Name)
		}
		if prev, dup := seen[k.ID]; dup {
			t.Fatalf("ID %q given to %s was already given to %s", k.ID, k.Name, prev)
		}
		seen[k.ID] = k.Name
	}
	for round := 0; round < 3; round++ {
		k := sink("pages")
		if err := c.Create(nil, k); err != nil {
			t.Fatal(err)
		}
		record(k)
		if got, _ := c.Sink("pages"); got.ID != k.ID {
			t.Errorf("stored ID %q, returned %q", got.ID, k.ID)
		}
		if err := c.DropSink("pages"); err != nil {
			t.Fatal(err)
		}
	}
	// Names that look like other sinks' IDs do not collide with them.
	for _, n := range []string{"pages-1", "pages-1-1", "p"} {
		k := sink(n)
		if err := c.Create(nil, k); err != nil {
			t.Fatal(err)
		}
		record(k)
	}
	// The counter survives a restart: a sink created after reopening, with
	// a name used before, still gets a fresh ID.
	c = open(t, dir)
	for _, k := range c.Sinks() {
		if seen[k.ID] != k.Name {
			t.Errorf("reopened sink %s has ID %q, which was not the ID it was created with", k.Name, k.ID)
		}
	}
	k := sink("pages")
	if err := c.Create(nil, k); err != nil {
		t.Fatal(err)
	}
	record(k)
	// Derived streams' sinks draw from the same counter.
	k = sink("_stream_agg")
	k.Stream = "agg"
	if err := c.Create(&catalog.Stream{Name: "agg", Topic: "agg", Format: "json"}, k); err != nil {
		t.Fatal(err)
	}
	record(k)
}

func TestPersistenceAcrossOpen(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	derived := &catalog.Stream{
		Name: "page_counts", Topic: "page_counts", Format: "json",
		Columns: []catalog.Column{
			{Name: "page", Type: types.Varchar},
			{Name: "window_end", Type: types.Timestamp},
			{Name: "views", Type: types.Bigint},
			{Name: "ratio", Type: types.Double},
			{Name: "hot", Type: types.Boolean},
		},
		Timestamp: "window_end", StartFrom: "earliest", IdleTimeout: 5000,
		Query:      "SELECT page, TUMBLE_END(ts, INTERVAL '1' MINUTE) AS window_end, count(*) AS views FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)",
		KeyColumns: []string{"page"},
	}
	filler := sink("_stream_page_counts")
	filler.Stream = "page_counts"
	plain := sink("alerts")
	plain.Options = map[string]string{"delivery": "at_least_once", "checkpoint_interval": "10 seconds"}
	plain.Created = time.Date(2026, 11, 23, 10, 1, 0, 123456789, time.FixedZone("CET", 3600))
	if err := c.Create(clicks(), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(derived, filler); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(nil, plain); err != nil {
		t.Fatal(err)
	}

	r := open(t, dir)
	if got, want := streamNames(r), []string{"clicks", "page_counts"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("reopened Streams() = %v, want %v", got, want)
	}
	for _, want := range []*catalog.Stream{clicks(), derived} {
		got, ok := r.Stream(want.Name)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("reopened stream %s:\n got %+v\nwant %+v", want.Name, got, want)
		}
	}
	for _, want := range []*catalog.Sink{filler, plain} {
		got, ok := r.Sink(want.Name)
		if !ok {
			t.Errorf("sink %s lost", want.Name)
			continue
		}
		if !got.Created.Equal(want.Created) {
			t.Errorf("sink %s: Created = %v, want %v", want.Name, got.Created, want.Created)
		}
		g, w := *got, *want
		g.Created, w.Created = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("reopened sink %s:\n got %+v\nwant %+v", want.Name, g, w)
		}
	}

	// Drops persist too.
	if err := r.DropSink("alerts"); err != nil {
		t.Fatal(err)
	}
	r2 := open(t, dir)
	if _, ok := r2.Sink("alerts"); ok {
		t.Error("dropped sink came back after reopen")
	}
	if got := sinkNames(r2); !reflect.DeepEqual(got, []string{"_stream_page_counts"}) {
		t.Errorf("sinks after reopen: %v", got)
	}
	// The file is replaced atomically: no temporary file is left behind.
	if _, err := os.Stat(filepath.Join(dir, "catalog.json.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestDropStreamRemovesDerivedSink(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	if err := c.Create(clicks(), nil); err != nil {
		t.Fatal(err)
	}
	filler := sink("_stream_agg")
	filler.Stream = "agg"
	if err := c.Create(&catalog.Stream{Name: "agg", Topic: "agg", Format: "json"}, filler); err != nil {
		t.Fatal(err)
	}
	// A sink that only reads agg is not the one filling it.
	reader := sink("agg_alerts")
	reader.Sources = []string{"agg"}
	if err := c.Create(nil, reader); err != nil {
		t.Fatal(err)
	}
	if err := c.DropStream("agg"); err != nil {
		t.Fatal(err)
	}
	for _, cat := range []*catalog.Catalog{c, open(t, dir)} {
		if _, ok := cat.Stream("agg"); ok {
			t.Error("stream agg still there")
		}
		if _, ok := cat.Sink("_stream_agg"); ok {
			t.Error("the sink filling agg survived its stream")
		}
		if _, ok := cat.Sink("agg_alerts"); !ok {
			t.Error("DropStream removed a sink that only reads the stream")
		}
		if _, ok := cat.Stream("clicks"); !ok {
			t.Error("DropStream removed another stream")
		}
	}
	// Dropping a plain stream touches no sink.
	if err := c.DropStream("clicks"); err != nil {
		t.Fatal(err)
	}
	if got := sinkNames(c); !reflect.DeepEqual(got, []string{"agg_alerts"}) {
		t.Errorf("sinks = %v", got)
	}
}

func TestCorruptCatalog(t *testing.T) {
	for name, content := range map[string]string{
		"not json":    "{not json",
		"truncated":   `{"streams": [{"name": "clicks"`,
		"wrong shape": `{"streams": {"name": "clicks"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "catalog.json")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := catalog.Open(dir)
			if err == nil {
				t.Fatalf("Open succeeded on a corrupt catalog: %v", streamNames(c))
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			// The corrupt file is left for the operator to inspect.
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Errorf("corrupt catalog was modified: %q", b)
			}
		})
	}
	// A directory where the file should be is an error too, not an empty catalog.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "catalog.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Open(dir); err == nil {
		t.Error("Open succeeded with catalog.json a directory")
	}
}

func TestOpenOnAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Open(file); err == nil {
		t.Error("Open succeeded on a regular file")
	}
}

// TestFailedSaveChangesNothing: when the new catalog cannot be written, the
// change is undone in memory too, so memory and disk agree.
func TestFailedSaveChangesNothing(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	if err := c.Create(clicks(), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(nil, sink("pages")); err != nil {
		t.Fatal(err)
	}
	filler := sink("_stream_agg")
	filler.Stream = "agg"
	if err := c.Create(&catalog.Stream{Name: "agg", Topic: "agg", Format: "json"}, filler); err != nil {
		t.Fatal(err)
	}
	// A directory in the way of the temporary file makes every save fail,
	// even for root.
	block := filepath.Join(dir, "catalog.json.tmp")
	if err := os.Mkdir(block, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(&catalog.Stream{Name: "new", Topic: "new", Format: "json"}, sink("new_sink")); err == nil {
		t.Fatal("Create succeeded although the catalog could not be saved")
	}
	if err := c.DropSink("pages"); err == nil {
		t.Fatal("DropSink succeeded although the catalog could not be saved")
	}
	if err := c.DropStream("agg"); err == nil {
		t.Fatal("DropStream succeeded although the catalog could not be saved")
	}
	want := func(cat *catalog.Catalog, when string) {
		t.Helper()
		if got := streamNames(cat); !reflect.DeepEqual(got, []string{"agg", "clicks"}) {
			t.Errorf("%s: streams = %v", when, got)
		}
		if got := sinkNames(cat); !reflect.DeepEqual(got, []string{"_stream_agg", "pages"}) {
			t.Errorf("%s: sinks = %v", when, got)
		}
	}
	want(c, "in memory")
	want(open(t, dir), "on disk")
	// Once the obstacle is gone, changes go through again.
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	if err := c.DropStream("agg"); err != nil {
		t.Fatal(err)
	}
	if got := sinkNames(open(t, dir)); !reflect.DeepEqual(got, []string{"pages"}) {
		t.Errorf("after a successful drop: sinks = %v", got)
	}
}

func TestConcurrentCreates(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for k := range n {
		wg.Go(func() {
			errs <- c.Create(nil, sink(fmt.Sprintf("s%02d", k)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	for _, k := range open(t, dir).Sinks() {
		if ids[k.ID] {
			t.Errorf("duplicate ID %q", k.ID)
		}
		ids[k.ID] = true
	}
	if len(ids) != n {
		t.Errorf("%d sinks on disk, want %d", len(ids), n)
	}
}

func TestStreamColumn(t *testing.T) {
	s := &catalog.Stream{Columns: []catalog.Column{{Name: "Page"}, {Name: "page"}, {Name: "ts"}}}
	for _, c := range []struct {
		name string
		want int
	}{{"page", 1}, {"Page", 0}, {"PAGE", 0}, {"TS", 2}, {"nope", -1}, {"", -1}} {
		if got := s.Column(c.name); got != c.want {
			t.Errorf("Column(%q) = %d, want %d", c.name, got, c.want)
		}
	}
}
