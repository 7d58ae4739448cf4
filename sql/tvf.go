package sql

import (
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
)

// Window table-valued functions (Flink and RisingWave syntax):
//
//	FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
//	FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), <slide>, <size>))
//	FROM TABLE(CUMULATE(TABLE clicks, DESCRIPTOR(ts), <step>, <max size>))
//
// TiDB has no table functions, so the call becomes a derived table carrying
// a marker predicate the planner recognises:
//
//	FROM (SELECT * FROM clicks WHERE __tvf('TUMBLE', ts, __interval('1', 'MINUTE')))
//
// The planner turns that into a windowing source exposing window_start and
// window_end; the marker is never evaluated.

var windowTVFs = map[string]bool{"TUMBLE": true, "HOP": true, "CUMULATE": true}

// tvf rewrites TABLE(KIND(...)) starting at nodes[i] (the word TABLE, with
// the group after it). ok is false when the nodes are not a window TVF.
func (r *rewriter) tvf(nodes []node, i int) (it item, ok bool, err error) {
	kw, outer := nodes[i], nodes[i+1]
	if len(outer.kids) != 2 || outer.kids[0].group || outer.kids[0].tok.kind != tokWord || !outer.kids[1].group {
		return item{}, false, nil
	}
	kind := strings.ToUpper(outer.kids[0].tok.text)
	if !windowTVFs[kind] {
		if strings.EqualFold(kind, "SESSION") {
			return item{}, true, sqlerr.New(sqlerr.FeatureNotSupported, "the SESSION table function is not supported").
				At(charPos(r.p.input, outer.kids[0].tok.start)).
				WithHint("Use the group window: GROUP BY key, SESSION(ts, INTERVAL '30' MINUTE).")
		}
		return item{}, false, nil
	}
	call := outer.kids[1]
	// Split the call's arguments at top-level commas.
	var args [][]node
	cur := []node{}
	for _, k := range call.kids {
		if !k.group && k.tok.isOp(",") {
			args = append(args, cur)
			cur = []node{}
			continue
		}
		cur = append(cur, k)
	}
	args = append(args, cur)
	bad := func(at token, msg string) error {
		return sqlerr.New(sqlerr.SyntaxError, "%s", msg).At(charPos(r.p.input, at.start)).
			WithHint("Write %s(TABLE <stream>, DESCRIPTOR(<event-time column>), %s).", kind, tvfSizes(kind))
	}
	want := 4
	if kind == "TUMBLE" {
		want = 3
	}
	if len(args) != want {
		return item{}, true, bad(outer.kids[0].tok, kind+" takes "+map[int]string{3: "three", 4: "four"}[want]+" arguments")
	}
	src := args[0]
	if len(src) != 2 || src[0].group || !src[0].tok.isWord("TABLE") || src[1].group || !src[1].tok.isName() {
		return item{}, true, bad(call.tok, "the first argument of "+kind+" must be TABLE <stream>")
	}
	desc := args[1]
	if len(desc) != 2 || desc[0].group || !desc[0].tok.isWord("DESCRIPTOR") || !desc[1].group ||
		len(desc[1].kids) != 1 || desc[1].kids[0].group || !desc[1].kids[0].tok.isName() {
		start := call.tok
		if len(desc) > 0 {
			start = desc[0].tok
		}
		return item{}, true, bad(start, "the second argument of "+kind+" must be DESCRIPTOR(<column>)")
	}
	srcTok, colTok := src[1].tok, desc[1].kids[0].tok
	body := []seg{
		{text: "(SELECT * FROM ", orig: kw.tok.start},
		r.leaf(srcTok).body[0],
		{text: " WHERE __tvf(" + quoteString(kind) + ", ", orig: outer.kids[0].tok.start},
		r.leaf(colTok).body[0],
	}
	for _, a := range args[2:] {
		items, err := r.seq(a, &call.close)
		if err != nil {
			return item{}, true, err
		}
		body = append(body, seg{text: ", ", orig: call.tok.start})
		body = appendItems(body, items)
	}
	body = append(body, seg{text: "))", orig: outer.close.start})
	return item{kind: itemGroup, tok: kw.tok, gap: gapOf(kw.tok, r.p.input), body: body}, true, nil
}

func tvfSizes(kind string) string {
	switch kind {
	case "HOP":
		return "<slide>, <size>"
	case "CUMULATE":
		return "<step>, <max size>"
	}
	return "<size>"
}
