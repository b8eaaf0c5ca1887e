package compare

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/locktest/locktest/explore"
	"github.com/locktest/locktest/report"
)

// Matrix is what matrix.json holds.
type Matrix struct {
	Started  string       `json:"started"`
	Duration string       `json:"duration"`
	Faults   []string     `json:"faults"`
	Params   MatrixParams `json:"params"`
	Cells    []CellResult `json:"cells"`
	Skipped  []Skip       `json:"skipped"`
	// Scenarios are the scripted scenarios played beside the matrix.
	Scenarios []ScenarioResult `json:"scenarios,omitempty"`
	// Mismatches are the cells whose verdict differs from the expectations (--expect).
	Mismatches []string `json:"mismatches,omitempty"`
	// Interrupted is true when the matrix was stopped early: the cell cut short and every one
	// after it are not run (see Run).
	Interrupted bool `json:"interrupted,omitempty"`
	// Shard is set when this is one part of a split comparison (compare --shard).
	Shard *ShardInfo `json:"shard,omitempty"`
	// MergedFrom are the shard directories this matrix was merged from (compare merge).
	MergedFrom []string `json:"merged_from,omitempty"`
}

// MatrixParams are the per-run parameters shared by every cell.
type MatrixParams struct {
	Clients       int    `json:"clients"`
	Nodes         int    `json:"nodes"`
	TTL           string `json:"ttl"`
	TimeLimit     string `json:"time_limit"`
	FaultInterval string `json:"fault_interval"`
	Runs          int    `json:"runs"`
	Seed          int64  `json:"seed"`
}

// Write writes matrix.json and matrix.md into dir.
func (m *Matrix) Write(dir string) error {
	if err := report.WriteJSON(filepath.Join(dir, "matrix.json"), m); err != nil {
		return err
	}
	var b strings.Builder
	m.Markdown(&b)
	return writeFile(filepath.Join(dir, "matrix.md"), b.String())
}

// paramsLine says how each cell was run, for the Markdown and the page alike. A fault-kind column
// plays one random fault at a time, each lasting the fault interval; an exploration profile's
// rounds compose faults and draw their own durations from the ttl, so the interval says nothing
// about them and is not claimed for them.
func (m *Matrix) paramsLine(started, took string) string {
	p := m.Params
	var kinds, profiles []string
	for _, f := range m.Faults {
		if f == NoFault {
			continue
		}
		if _, err := explore.Of(f); err == nil {
			profiles = append(profiles, f)
		} else {
			kinds = append(kinds, f)
		}
	}
	var faults []string
	if len(kinds) > 0 {
		faults = append(faults, fmt.Sprintf("a fault column plays a random schedule of that kind, one fault at a time, each lasting %s", p.FaultInterval))
	}
	if len(profiles) > 0 {
		faults = append(faults, fmt.Sprintf("a profile column (%s) plays rounds of composed, holder-aware faults whose durations are drawn relative to the ttl", strings.Join(profiles, ", ")))
	}
	line := fmt.Sprintf("Started %s, took %s. Each cell: %d run(s) of %s, %d clients, ttl %s, seed %d + cell", started, took, p.Runs, p.TimeLimit, p.Clients, p.TTL, p.Seed)
	if len(faults) > 0 {
		line += "; " + strings.Join(faults, "; ")
	}
	return line + "."
}

// Markdown writes the table a person reads: one row per backend×fencing, one column per fault,
// each cell the verdict with its anomaly counts and throughput, linking to the cell's runs.
func (m *Matrix) Markdown(w io.Writer) {
	fmt.Fprintf(w, "# Lock backends under faults\n\n")
	fmt.Fprintf(w, "%s\n\n", m.paramsLine(m.Started, m.Duration))
	if m.Shard != nil {
		fmt.Fprintf(w, "**Shard %s**: %d of the plan's %d cells and %d of its %d scenarios; `locktest compare merge` joins the shards into one matrix.\n\n",
			m.Shard.Shard, len(m.Shard.Cells), len(m.Shard.Plan.Cells), len(m.Shard.Scenarios), len(m.Shard.Plan.Scenarios))
	}
	if len(m.MergedFrom) > 0 {
		fmt.Fprintf(w, "Merged from %d shards: %s.\n\n", len(m.MergedFrom), strings.Join(m.MergedFrom, ", "))
	}
	if m.Interrupted {
		fmt.Fprintf(w, "**Interrupted**: the matrix is incomplete; the cell that was cut short and every cell after it are not run.\n\n")
	}
	fmt.Fprintf(w, "INVALID means some run lost data or let two clients believe they held the lock (without fencing); the counts are summed over the cell's runs. "+
		"VALID means not found in the runs made, never safe: each cell says how many runs of how long it took, and for INVALID in how many and how soon. "+
		"Liveness beside it: the longest stretch of any run with no acknowledged increment, and the mean share of time some client held the lock; a lock that stays correct by stalling shows here.\n\n")

	rows, byKey := m.index()
	fmt.Fprintf(w, "| backend | %s |\n|---|%s\n", strings.Join(m.Faults, " | "), strings.Repeat("---|", len(m.Faults)))
	for _, row := range rows {
		cols := make([]string, len(m.Faults))
		for i, f := range m.Faults {
			cols[i] = cellText(byKey[row+"/"+f])
		}
		fmt.Fprintf(w, "| %s | %s |\n", row, strings.Join(cols, " | "))
	}
	if lines := m.notRun(); len(lines) > 0 {
		fmt.Fprintf(w, "\nNot run:\n")
		for _, line := range lines {
			fmt.Fprintln(w, "- "+line)
		}
	}
	scenarioMarkdown(w, m.Scenarios)
	if len(m.Mismatches) > 0 {
		fmt.Fprintf(w, "\n**Differs from the expectations:**\n")
		for _, mm := range m.Mismatches {
			fmt.Fprintf(w, "- %s\n", mm)
		}
	}
}

// notRun lists the skipped combinations, once each: a row with no cell run (a fenced row of a
// backend without tokens) is one line, a single skipped cell names its fault.
func (m *Matrix) notRun() []string {
	var lines []string
	seen := map[string]bool{}
	ran := m.rowsRun()
	for _, s := range m.Skipped {
		line := fmt.Sprintf("%s: %s", s.Cell.Row(), s.Why)
		if ran[s.Cell.Row()] || s.Cell.Fencing == "none" {
			line = fmt.Sprintf("%s / %s: %s", s.Cell.Row(), s.Cell.Fault, s.Why)
		}
		if !seen[line] {
			seen[line] = true
			lines = append(lines, line)
		}
	}
	return lines
}

// rowsRun says which rows have at least one cell that ran.
func (m *Matrix) rowsRun() map[string]bool {
	ran := map[string]bool{}
	for _, c := range m.Cells {
		ran[c.Row()] = true
	}
	return ran
}

// cellEntry is what a table cell shows: a result, a skip, or nothing.
type cellEntry struct {
	result *CellResult
	skip   *Skip
}

func (m *Matrix) index() ([]string, map[string]cellEntry) {
	var rows []string
	byKey := map[string]cellEntry{}
	addRow := func(c Cell) {
		for _, r := range rows {
			if r == c.Row() {
				return
			}
		}
		rows = append(rows, c.Row())
	}
	for i := range m.Cells {
		c := &m.Cells[i]
		addRow(c.Cell)
		byKey[c.Row()+"/"+c.Fault] = cellEntry{result: c}
	}
	ran := m.rowsRun()
	for i := range m.Skipped {
		s := &m.Skipped[i]
		// Fenced rows of token-less backends, with no cell run, are just absent.
		if s.Cell.Fencing == "none" || ran[s.Cell.Row()] {
			addRow(s.Cell)
			byKey[s.Cell.Row()+"/"+s.Cell.Fault] = cellEntry{skip: s}
		}
	}
	return rows, byKey
}

func cellText(e cellEntry) string {
	switch {
	case e.skip != nil:
		return "—"
	case e.result == nil:
		return "(not run)"
	}
	r := e.result
	text := "**" + r.Label() + "**"
	if d := r.Detection(); d != "" {
		text += " (" + d + ")"
	}
	if a := anomalyText(r.Sum()); a != "" {
		text += " " + a
	}
	text += fmt.Sprintf("; %.0f ops/s", r.MeanThroughput())
	if l := r.LivenessText(); l != "" {
		text += "; " + l
	}
	for i, run := range r.Runs {
		if run.Error != "" {
			text += fmt.Sprintf("; run %d: %s", i+1, strings.ReplaceAll(run.Error, "|", "/"))
		}
		if run.Dir != "" {
			text += fmt.Sprintf(" [run %d](%s)", i+1, filepath.ToSlash(run.Dir))
		}
	}
	return text
}

// Since formats a duration for the matrix header.
func Since(t time.Time) string { return time.Since(t).Round(time.Second).String() }

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}
