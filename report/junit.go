package report

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"

	"github.com/locktest/locktest/checker"
)

// JUnitCase is one test case of a JUnit report: a run, or a cell of a comparison matrix.
type JUnitCase struct {
	Class   string
	Name    string
	Seconds float64
	// Failure, if set, is the one-line reason the case failed (a verdict other than expected).
	Failure string
	// Error, if set, says why the case could not be judged (unknown verdict, harness error).
	Error string
	// Detail is the longer text under the failure or error (the first example of each anomaly).
	Detail string
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Time    string        `xml:"time,attr"`
	Failure *junitProblem `xml:"failure,omitempty"`
	Error   *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes cases as one JUnit test suite to path.
func WriteJUnit(path, suite string, cases []JUnitCase) error {
	s := junitSuite{Name: suite, Tests: len(cases)}
	var total float64
	for _, c := range cases {
		jc := junitCase{Class: c.Class, Name: c.Name, Time: fmt.Sprintf("%.3f", c.Seconds)}
		switch {
		case c.Failure != "":
			jc.Failure = &junitProblem{Message: c.Failure, Type: "invalid", Text: c.Detail}
			s.Failures++
		case c.Error != "":
			jc.Error = &junitProblem{Message: c.Error, Type: "unknown", Text: c.Detail}
			s.Errors++
		}
		total += c.Seconds
		s.Cases = append(s.Cases, jc)
	}
	s.Time = fmt.Sprintf("%.3f", total)
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{s}}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

// JUnitFromResults turns a run into a test case. Without a scenario expectation the case passes
// when the run is valid; with one, when the expectation is met.
func JUnitFromResults(r *Results, class, name string) JUnitCase {
	c := JUnitCase{Class: class, Name: name, Seconds: r.Timings.WorkloadSeconds + r.Timings.CheckSeconds, Detail: exampleText(r)}
	summary := fmt.Sprintf("%s: %s", strings.ToUpper(r.Valid.String()), anomalyLine(r.Anomalies))
	if r.Interrupted {
		// A run cut short proves nothing either way: never a pass, never a finding.
		c.Error = "interrupted: the partial verdict was " + summary
		return c
	}
	if sc := r.Scenario; sc != nil && (sc.Expect != "" || len(sc.Require) > 0) {
		switch {
		case sc.Met:
		case sc.Error != "" || r.Valid == checker.Unknown:
			c.Error = fmt.Sprintf("scenario %s could not be judged: %s", sc.Name, firstNonEmpty(sc.Error, summary))
		default:
			c.Failure = fmt.Sprintf("scenario %s expected %s (requiring %s), got %s", sc.Name, sc.Expect, strings.Join(sc.Require, ", "), summary)
		}
		return c
	}
	switch r.Valid {
	case checker.Invalid:
		c.Failure = summary
	case checker.Unknown:
		c.Error = summary
	}
	return c
}

func anomalyLine(a checker.Anomalies) string {
	var parts []string
	for _, name := range checker.AnomalyNames {
		if n, _ := a.Count(name); n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", name, n))
		}
	}
	if len(parts) == 0 {
		return "no anomaly"
	}
	return strings.Join(parts, " ")
}

func exampleText(r *Results) string {
	var b strings.Builder
	for _, ex := range r.Examples {
		fmt.Fprintf(&b, "%s: %s\n", ex.Kind, ex.Text)
	}
	return b.String()
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
