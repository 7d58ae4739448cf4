package state

import (
	"fmt"
	"os"
	"sync/atomic"
)

// SpillArea is the directory where caches of bounded queries put the
// entries that do not fit their budget. Each spilling cache writes its
// sorted runs (runs.go) in a fresh subdirectory of its own, created on its
// first spill and deleted on Close. Spilled data is never committed state:
// it lives outside the state directory, and whatever a crashed process left
// behind is removed by OpenSpillArea at the next start.
// Safe for concurrent use.
type SpillArea struct {
	dir string
	seq atomic.Int64
}

// OpenSpillArea empties (or creates) dir for spilling caches.
func OpenSpillArea(dir string) (*SpillArea, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("state: clearing spill directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: spill directory: %w", err)
	}
	return &SpillArea{dir: dir}, nil
}
