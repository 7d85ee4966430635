package study

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is when a study repeats: every day at a UTC time ("daily
// 03:00"), or every N hours or minutes aligned to the clock ("every 6h":
// 00:00, 06:00, ... UTC). N must divide a day (hours) or an hour
// (minutes), so that the runs are evenly spaced and systemd can express
// them as a calendar event that survives reboots (Persistent=true catches
// up on a run missed while the machine was down).
type Schedule struct {
	// Text is the schedule as written; empty when the study has none.
	Text string
	// Every is the interval; At the time of day of a daily schedule.
	Every time.Duration
	At    time.Duration
}

// scheduleHelp lists the valid forms.
const scheduleHelp = `"daily HH:MM" (UTC), "every Nh" with N dividing 24 (1, 2, 3, 4, 6, 8, 12, 24) or "every Nm" with N dividing 60 and at least 5 (5, 10, 12, 15, 20, 30, 60)`

// ParseSchedule parses "daily 03:00", "every 6h" or "every 30m".
func ParseSchedule(s string) (Schedule, error) {
	f := strings.Fields(s)
	bad := func() (Schedule, error) {
		return Schedule{}, fmt.Errorf("malformed schedule %q: want %s", s, scheduleHelp)
	}
	if len(f) != 2 {
		return bad()
	}
	switch f[0] {
	case "daily":
		hh, mm, ok := strings.Cut(f[1], ":")
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if !ok || err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(mm) != 2 {
			return bad()
		}
		return Schedule{Text: s, Every: 24 * time.Hour, At: time.Duration(h)*time.Hour + time.Duration(m)*time.Minute}, nil
	case "every":
		unit := f[1][len(f[1])-1:]
		n, err := strconv.Atoi(f[1][:len(f[1])-1])
		if err != nil || n <= 0 {
			return bad()
		}
		switch {
		case unit == "h" && 24%n == 0:
			return Schedule{Text: s, Every: time.Duration(n) * time.Hour}, nil
		case unit == "m" && 60%n == 0 && n >= 5:
			return Schedule{Text: s, Every: time.Duration(n) * time.Minute}, nil
		}
	}
	return bad()
}

// IsZero reports whether no schedule was given.
func (s Schedule) IsZero() bool { return s.Every == 0 }

// OnCalendar is the systemd calendar event of the schedule, in UTC.
func (s Schedule) OnCalendar() string {
	switch {
	case s.Every == 24*time.Hour:
		h, m := int(s.At.Hours()), int(s.At.Minutes())%60
		return fmt.Sprintf("*-*-* %02d:%02d:00 UTC", h, m)
	case s.Every%time.Hour == 0:
		return fmt.Sprintf("*-*-* 00/%d:00:00 UTC", int(s.Every.Hours()))
	default:
		return fmt.Sprintf("*-*-* *:00/%d:00 UTC", int(s.Every.Minutes()))
	}
}

// MarshalJSON writes the schedule as its text.
func (s Schedule) MarshalJSON() ([]byte, error) { return json.Marshal(s.Text) }
