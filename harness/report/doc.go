// Package report turns a study's run store outputs into the reproduction's
// report: one summary.json per profile (Build), and from it alone the
// tables (Markdown, CSV, LaTeX), the plots (PNG, SVG) and CLAIMS.md.
//
// Statistics are over seeds. For values x_1..x_n of one condition the report
// gives the mean and a 95% Student-t interval
//
//	mean ± t_{0.975, n-1} · s / sqrt(n),   s² = Σ (x_i - mean)² / (n - 1),
//
// and calls two conditions different only when their intervals do not
// overlap (a conservative test: non-overlapping 95% intervals imply p < 0.05
// for a difference, overlap does not imply its absence). With fewer than two
// seeds there is no interval and no difference is ever called.
package report
