package scalar

import (
	"strings"
	"time"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// timeField is a part of a timestamp that EXTRACT/date_part reads or
// date_trunc truncates to. TIMESTAMPs are UTC, so no field depends on a
// time zone.
type timeField int

const (
	fieldYear timeField = iota
	fieldQuarter
	fieldMonth
	fieldWeek // ISO 8601 week of the ISO year, 1-53
	fieldDay
	fieldHour
	fieldMinute
	fieldSecond
	fieldMillisecond
	fieldMicrosecond
	fieldDow    // day of the week, Sunday = 0 (PostgreSQL)
	fieldIsodow // day of the week, Monday = 1 ... Sunday = 7
	fieldDoy    // day of the year, 1-366
	fieldEpoch  // seconds since 1970-01-01 00:00:00
	fieldIsoyear
)

// timeFields maps the unit names PostgreSQL accepts (singular, plural and
// abbreviated) to fields.
var timeFields = map[string]timeField{
	"year": fieldYear, "years": fieldYear, "y": fieldYear, "yr": fieldYear, "yrs": fieldYear,
	"quarter": fieldQuarter, "qtr": fieldQuarter,
	"month": fieldMonth, "months": fieldMonth, "mon": fieldMonth, "mons": fieldMonth,
	"week": fieldWeek, "weeks": fieldWeek, "w": fieldWeek,
	"day": fieldDay, "days": fieldDay, "d": fieldDay,
	"hour": fieldHour, "hours": fieldHour, "h": fieldHour, "hr": fieldHour, "hrs": fieldHour,
	"minute": fieldMinute, "minutes": fieldMinute, "m": fieldMinute, "min": fieldMinute, "mins": fieldMinute,
	"second": fieldSecond, "seconds": fieldSecond, "s": fieldSecond, "sec": fieldSecond, "secs": fieldSecond,
	"millisecond": fieldMillisecond, "milliseconds": fieldMillisecond, "ms": fieldMillisecond,
	"msec": fieldMillisecond, "msecs": fieldMillisecond,
	"microsecond": fieldMicrosecond, "microseconds": fieldMicrosecond, "us": fieldMicrosecond,
	"usec": fieldMicrosecond, "usecs": fieldMicrosecond,
	"dow": fieldDow, "isodow": fieldIsodow, "doy": fieldDoy, "epoch": fieldEpoch, "isoyear": fieldIsoyear,
}

const (
	extractUnits = "year, quarter, month, week, day, hour, minute, second, millisecond, microsecond, dow, isodow, doy, epoch, isoyear"
	truncUnits   = "millisecond, second, minute, hour, day, week, month, quarter, year"
)

func badUnit(unit, valid string) error {
	return sqlerr.New(sqlerr.InvalidParameter, "unit %q not recognized for type timestamp", unit).
		WithHint("Valid units are: %s.", valid)
}

func lookupExtractField(unit string) (timeField, error) {
	f, ok := timeFields[strings.ToLower(strings.TrimSpace(unit))]
	if !ok {
		return 0, badUnit(unit, extractUnits)
	}
	return f, nil
}

func lookupTruncField(unit string) (timeField, error) {
	f, ok := timeFields[strings.ToLower(strings.TrimSpace(unit))]
	switch {
	case !ok:
	case f == fieldDow, f == fieldIsodow, f == fieldDoy, f == fieldEpoch, f == fieldIsoyear:
	default:
		return f, nil
	}
	return 0, badUnit(unit, truncUnits)
}

const msPerDay = 86_400_000

// floorMod is x mod m with the sign of m, so that instants before 1970 fall
// into the right second, minute or day.
func floorMod(x, m int64) int64 {
	r := x % m
	if r < 0 {
		r += m
	}
	return r
}

func utc(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// extractField reads field f of the timestamp ms. Every field is a whole
// number, as in Flink: SECOND is 0-59 without the fraction (PostgreSQL
// would return 30.25) and EPOCH is whole seconds, rounded down.
func extractField(f timeField, ms int64) int64 {
	t := utc(ms)
	switch f {
	case fieldYear:
		return int64(t.Year())
	case fieldQuarter:
		return int64(t.Month()-1)/3 + 1
	case fieldMonth:
		return int64(t.Month())
	case fieldWeek:
		_, w := t.ISOWeek()
		return int64(w)
	case fieldDay:
		return int64(t.Day())
	case fieldHour:
		return int64(t.Hour())
	case fieldMinute:
		return int64(t.Minute())
	case fieldSecond:
		return int64(t.Second())
	case fieldMillisecond:
		return int64(t.Second())*1000 + floorMod(ms, 1000)
	case fieldMicrosecond:
		return (int64(t.Second())*1000 + floorMod(ms, 1000)) * 1000
	case fieldDow:
		return int64(t.Weekday())
	case fieldIsodow:
		if t.Weekday() == time.Sunday {
			return 7
		}
		return int64(t.Weekday())
	case fieldDoy:
		return int64(t.YearDay())
	case fieldEpoch:
		return (ms - floorMod(ms, 1000)) / 1000
	case fieldIsoyear:
		y, _ := t.ISOWeek()
		return int64(y)
	}
	panic("scalar: unknown time field")
}

// truncate rounds the timestamp ms down to the start of its unit; weeks
// start on Monday (ISO 8601), as in PostgreSQL.
func truncate(f timeField, ms int64) (int64, error) {
	var r int64
	switch f {
	case fieldMillisecond, fieldMicrosecond:
		return ms, nil
	case fieldSecond:
		r = ms - floorMod(ms, 1000)
	case fieldMinute:
		r = ms - floorMod(ms, 60_000)
	case fieldHour:
		r = ms - floorMod(ms, 3_600_000)
	case fieldDay:
		r = ms - floorMod(ms, msPerDay)
	case fieldWeek:
		day := ms - floorMod(ms, msPerDay)
		back := (int64(utc(day).Weekday()) + 6) % 7 // days since Monday
		r = day - back*msPerDay
	default:
		t := utc(ms)
		m := t.Month()
		switch f {
		case fieldQuarter:
			m = (m-1)/3*3 + 1
		case fieldYear:
			m = time.January
		}
		r = time.Date(t.Year(), m, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	if r > ms {
		// Only an instant near the ends of the int64 range wraps around.
		return 0, errOverflow("timestamp")
	}
	return r, nil
}

// checkConst returns a Check that runs validate over argument i when it is
// a constant.
func checkConst(i int, validate func(string) error) func([]*types.Value) error {
	return func(consts []*types.Value) error {
		if i < len(consts) && consts[i] != nil {
			return validate(consts[i].S)
		}
		return nil
	}
}

func init() {
	// date_part(unit, ts) returns a field of ts as a BIGINT; the binder
	// maps EXTRACT(unit FROM ts) to it.
	datePart := signature{name: "date_part", params: []types.Type{vc, ts}}
	register("date_part", func(args []types.Type) (*Impl, error) {
		at, err := datePart.match(args)
		if err != nil {
			return nil, err
		}
		var m memo[timeField]
		return &Impl{Name: "date_part", Ret: bi, ArgTypes: at,
			Check: checkConst(0, func(u string) error { _, err := lookupExtractField(u); return err }),
			Eval: func(v []types.Value) (types.Value, error) {
				f, err := m.get(v[0].S, lookupExtractField)
				if err != nil {
					return types.Value{}, err
				}
				return types.IntValue(extractField(f, v[1].I)), nil
			}}, nil
	})
	// Flink's (and MySQL's) one-field functions. DAYOFWEEK counts from
	// Sunday = 1, unlike EXTRACT(DOW ...), which counts from Sunday = 0.
	for name, f := range map[string]timeField{
		"year": fieldYear, "quarter": fieldQuarter, "month": fieldMonth, "week": fieldWeek,
		"dayofmonth": fieldDay, "dayofyear": fieldDoy, "hour": fieldHour, "minute": fieldMinute, "second": fieldSecond,
	} {
		fixed(name, bi, []types.Type{ts}, func(v []types.Value) (types.Value, error) {
			return types.IntValue(extractField(f, v[0].I)), nil
		})
	}
	fixed("dayofweek", bi, []types.Type{ts}, func(v []types.Value) (types.Value, error) {
		return types.IntValue(extractField(fieldDow, v[0].I) + 1), nil
	})

	// date_trunc(unit, ts) is the start of the unit holding ts.
	dateTrunc := signature{name: "date_trunc", params: []types.Type{vc, ts}}
	register("date_trunc", func(args []types.Type) (*Impl, error) {
		at, err := dateTrunc.match(args)
		if err != nil {
			return nil, err
		}
		var m memo[timeField]
		return &Impl{Name: "date_trunc", Ret: ts, ArgTypes: at,
			Check: checkConst(0, func(u string) error { _, err := lookupTruncField(u); return err }),
			Eval: func(v []types.Value) (types.Value, error) {
				f, err := m.get(v[0].S, lookupTruncField)
				if err != nil {
					return types.Value{}, err
				}
				r, err := truncate(f, v[1].I)
				if err != nil {
					return types.Value{}, err
				}
				return types.TimestampValue(r), nil
			}}, nil
	})

	// date_format(ts, pattern) formats with Java's date patterns, as Flink
	// does; to_char(ts, pattern) with PostgreSQL's.
	formatter := func(name string, compile func(string) ([]fmtPart, error)) {
		s := signature{name: name, params: []types.Type{ts, vc}}
		register(name, func(args []types.Type) (*Impl, error) {
			at, err := s.match(args)
			if err != nil {
				return nil, err
			}
			var m memo[[]fmtPart]
			return &Impl{Name: name, Ret: vc, ArgTypes: at,
				Check: checkConst(1, func(p string) error { _, err := compile(p); return err }),
				Eval: func(v []types.Value) (types.Value, error) {
					parts, err := m.get(v[1].S, compile)
					if err != nil {
						return types.Value{}, err
					}
					return types.StringValue(renderTime(parts, v[0].I)), nil
				}}, nil
		})
	}
	formatter("date_format", compileJavaFormat)
	formatter("to_char", compilePGFormat)
}
