// SPDX-License-Identifier: MIT
/*
 * Training curves as SVG (f8-plot.h), written by hand: two panels (loss, accuracy in %)
 * with "nice" tick steps (1, 2 or 5 times a power of ten), train and test series, a
 * legend per panel. Coordinates are printed with one decimal: files stay small and
 * byte-identical for the same history.
 *
 * Any history is safe to draw (a checkpoint is untrusted): values beyond +-1e300 are
 * drawn at that bound, so no axis computation can overflow; an axis range is always
 * wide enough for its steps to change a double; the tick loops count whole steps and
 * stop after F8_PLOT_TICKS_MAX; text is escaped for XML and made printable.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "f8-err.h"
#include "f8-plot.h"

#define F8_PLOT_W 960
#define F8_PLOT_HT 420
#define F8_PANEL_W (F8_PLOT_W / 2)
/* Margins of the plotting area inside a panel: room for tick labels and axis titles. */
#define F8_MARGIN_L 70
#define F8_MARGIN_R 20
#define F8_MARGIN_T 60
#define F8_MARGIN_B 55
/* Values are drawn within +-F8_PLOT_LIM: differences and widened bounds stay finite. */
#define F8_PLOT_LIM 1e300
/* Tick lines per axis at most (the nice steps give about 5 or 8). */
#define F8_PLOT_TICKS_MAX 64

struct f8_plot_series {
	const char *label;
	const char *color;
	bool dashed;
	size_t field; /* offset of a double in struct f8_epoch_stats */
	double scale; /* 100 for accuracies shown in % */
};

struct f8_plot_axis {
	double lo, hi, step;
};

/* The value to draw (clamped to +-F8_PLOT_LIM), or NaN when there is none to draw. */
static double f8_plot_value(const struct f8_epoch_stats *e, const struct f8_plot_series *s)
{
	double v = *(const double *)((const char *)e + s->field) * s->scale;

	if (isnan(v))
		return v;
	return v > F8_PLOT_LIM ? F8_PLOT_LIM : v < -F8_PLOT_LIM ? -F8_PLOT_LIM : v;
}

/* A tick step of 1, 2 or 5 times a power of ten giving about @ticks intervals. */
static double f8_plot_nice_step(double range, int ticks)
{
	double raw = range / ticks, mag, f;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Widen [lo, hi] to whole tick steps; a flat or empty range still gets a visible axis. */
static struct f8_plot_axis f8_plot_axis_make(double lo, double hi, int ticks)
{
	struct f8_plot_axis a;
	double mag;

	if (!(lo <= hi)) {
		lo = 0;
		hi = 1;
	}
	/* A range too narrow for the magnitude (1e10 +- 1e-6) could not be divided into steps. */
	mag = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
	if (hi - lo < 1e-9 * (mag > 1 ? mag : 1)) {
		lo -= lo == 0 ? 0 : fabs(lo) * 0.1;
		hi += hi == 0 ? 1 : fabs(hi) * 0.1;
	}
	a.step = f8_plot_nice_step(hi - lo, ticks);
	a.lo = floor(lo / a.step + 1e-9) * a.step;
	a.hi = ceil(hi / a.step - 1e-9) * a.step;
	if (!(a.hi > a.lo))
		a.hi = a.lo + a.step;
	return a;
}

/* Tick i of an axis, 0 .. f8_plot_ticks(a). */
static int f8_plot_ticks(const struct f8_plot_axis *a)
{
	double n = floor((a->hi - a->lo) / a->step + 1e-6);

	return n >= 0 && n <= F8_PLOT_TICKS_MAX ? (int)n : F8_PLOT_TICKS_MAX;
}

/* @s as XML character data: printable (f8_str_safe: no control character, which XML 1.0
 * forbids, no broken UTF-8), with the markup characters escaped. */
static void f8_plot_text_escaped(FILE *out, const char *s)
{
	char safe[1024];
	const char *p;

	f8_str_safe(safe, sizeof(safe), s);
	for (p = safe; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*p, out);
		}
	}
}

/* A tick label with as many decimals as the step needs (0.05 -> 2). */
static void f8_plot_tick_label(FILE *out, double v, double step)
{
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	if (dec > 6)
		dec = 6;
	if (fabs(v) >= 1e9 || step >= 1e9)
		fprintf(out, "%g", v); /* no 300-digit labels */
	else
		fprintf(out, "%.*f", dec, fabs(v) < step * 1e-6 ? 0.0 : v);
}

static void f8_plot_panel(FILE *out, int x0, const char *title, const char *ylabel,
			  const struct f8_plot_series *ser, int nser,
			  const struct f8_epoch_stats *h, int n, bool from_zero, bool legend_low)
{
	const double pl = x0 + F8_MARGIN_L, pr = x0 + F8_PANEL_W - F8_MARGIN_R;
	const double pt = F8_MARGIN_T, pb = F8_PLOT_HT - F8_MARGIN_B;
	/* Legend top right for falling curves (loss), bottom right for rising ones. */
	const double ly = legend_low ? pb - 12 - 18.0 * nser : pt + 4;
	double lo = INFINITY, hi = -INFINITY, v;
	struct f8_plot_axis ax, ay;
	int i, s, t, nt;

	for (s = 0; s < nser; s++)
		for (i = 0; i < n; i++) {
			v = f8_plot_value(&h[i], &ser[s]);
			if (!isfinite(v))
				continue;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	if (from_zero && lo > 0)
		lo = 0;
	ay = f8_plot_axis_make(lo, hi, 5);
	/* Epochs: integer ticks from 0 (or 1 for a single epoch: the point sits mid-axis). */
	ax = f8_plot_axis_make(n > 1 ? 1 : 0, n > 1 ? n : 2, 8);
	if (ax.step < 1)
		ax.step = 1;
	ax.lo = n > 1 ? 1 : 0;
	ax.hi = ax.lo + ceil((double)(n > 1 ? n - 1 : 2) / ax.step) * ax.step;

#define F8_PX(e) (pl + ((e) - ax.lo) / (ax.hi - ax.lo) * (pr - pl))
#define F8_PY(y) (pb - ((y) - ay.lo) / (ay.hi - ay.lo) * (pb - pt))
	fprintf(out, "<g class=\"panel\">\n");
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\">",
		(pl + pr) / 2, pt - 14);
	f8_plot_text_escaped(out, title);
	fprintf(out, "</text>\n");
	/* Grid and tick labels. */
	nt = f8_plot_ticks(&ay);
	for (t = 0; t <= nt; t++) {
		v = ay.lo + t * ay.step;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
			pl, F8_PY(v), pr, F8_PY(v));
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">",
			pl - 6, F8_PY(v) + 4);
		f8_plot_tick_label(out, v, ay.step);
		fprintf(out, "</text>\n");
	}
	nt = f8_plot_ticks(&ax);
	for (t = 0; t <= nt; t++) {
		v = ax.lo + t * ax.step;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
			F8_PX(v), pb, F8_PX(v), pb + 5);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%.0f</text>\n",
			F8_PX(v), pb + 18, v);
	}
	/* Axes and their titles. */
	fprintf(out, "<path d=\"M%.1f %.1f V%.1f H%.1f\" fill=\"none\" stroke=\"#333\"/>\n", pl, pt, pb,
		pr);
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n",
		(pl + pr) / 2, pb + 40.0);
	fprintf(out,
		"<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" "
		"font-size=\"12\">",
		pl - 52, (pt + pb) / 2);
	f8_plot_text_escaped(out, ylabel);
	fprintf(out, "</text>\n");
	/* Series: a polyline broken at non-finite values, and a dot per epoch. */
	for (s = 0; s < nser; s++) {
		bool open = false;

		fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", ser[s].color,
			ser[s].dashed ? " stroke-dasharray=\"6 4\"" : "");
		for (i = 0; i < n; i++) {
			v = f8_plot_value(&h[i], &ser[s]);
			if (!isfinite(v)) {
				open = false;
				continue;
			}
			fprintf(out, "%s%.1f %.1f", open ? " L" : (i ? " M" : "M"), F8_PX(h[i].epoch),
				F8_PY(v));
			open = true;
		}
		fprintf(out, "\"/>\n");
		for (i = 0; i < n; i++) {
			v = f8_plot_value(&h[i], &ser[s]);
			if (isfinite(v))
				fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
					F8_PX(h[i].epoch), F8_PY(v), ser[s].color);
		}
	}
	/* The legend last, on a box over the lines. */
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"112\" height=\"%.1f\" fill=\"white\" "
		"fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n",
		pr - 116, ly - 2, 18.0 * nser + 8);
	for (s = 0; s < nser; s++) {
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"2\"%s/>\n",
			pr - 110, ly + 12 + 18.0 * s, pr - 84, ly + 12 + 18.0 * s, ser[s].color,
			ser[s].dashed ? " stroke-dasharray=\"6 4\"" : "");
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", pr - 78,
			ly + 16 + 18.0 * s);
		f8_plot_text_escaped(out, ser[s].label);
		fprintf(out, "</text>\n");
	}
	if (n == 0)
		fprintf(out,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
			"fill=\"#888\">no epochs yet</text>\n",
			(pl + pr) / 2, (pt + pb) / 2);
	fprintf(out, "</g>\n");
#undef F8_PX
#undef F8_PY
}

int f8_plot_curves_svg(FILE *out, const struct f8_epoch_stats *history, int n, const char *title)
{
	const struct f8_plot_series loss[2] = {
		{ "train", "#1f77b4", false, offsetof(struct f8_epoch_stats, train_loss), 1 },
		{ "test", "#d62728", true, offsetof(struct f8_epoch_stats, test_loss), 1 },
	};
	const struct f8_plot_series acc[2] = {
		{ "train", "#1f77b4", false, offsetof(struct f8_epoch_stats, train_acc), 100 },
		{ "test", "#d62728", true, offsetof(struct f8_epoch_stats, test_acc), 100 },
	};

	if (n < 0 || (n > 0 && !history))
		n = 0;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		F8_PLOT_W, F8_PLOT_HT, F8_PLOT_W, F8_PLOT_HT);
	if (title && *title) {
		fprintf(out, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"16\" "
			"font-weight=\"bold\">", F8_PLOT_W / 2);
		f8_plot_text_escaped(out, title);
		fprintf(out, "</text>\n");
	}
	f8_plot_panel(out, 0, "loss (cross-entropy)", "loss", loss, 2, history, n, true, false);
	f8_plot_panel(out, F8_PANEL_W, "accuracy", "accuracy (%)", acc, 2, history, n, false, true);
	fprintf(out, "</svg>\n");
	return ferror(out) ? F8_ERR_IO : F8_OK;
}

/* --- bar charts: one row per item, up to two bars each (e.g. measured and predicted) --- */

#define F8_BARS_W 960
#define F8_BARS_ROW 22
#define F8_BARS_LABEL 230

int f8_plot_bars_svg(FILE *out, const char *title, const char *unit, int n,
		     const char *const *labels, const double *a, const char *a_name,
		     const double *b, const char *b_name)
{
	const int top = 70, plot_w = F8_BARS_W - F8_BARS_LABEL - 40;
	const int height = top + (n > 0 ? n : 1) * F8_BARS_ROW + 50;
	struct f8_plot_axis ax;
	double hi = 0;
	int i, t, nt;

	for (i = 0; i < n; i++) {
		if (isfinite(a[i]) && a[i] > hi)
			hi = fmin(a[i], F8_PLOT_LIM);
		if (b && isfinite(b[i]) && b[i] > hi)
			hi = fmin(b[i], F8_PLOT_LIM);
	}
	ax = f8_plot_axis_make(0, hi, 6);
	nt = f8_plot_ticks(&ax);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "font-family=\"sans-serif\" font-size=\"12\">\n", F8_BARS_W, height);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(out, "<text x=\"%d\" y=\"24\" font-size=\"15\">", F8_BARS_W / 2 - 200);
	f8_plot_text_escaped(out, title ? title : "");
	fprintf(out, "</text>\n");
	/* legend */
	fprintf(out, "<rect x=\"%d\" y=\"36\" width=\"12\" height=\"10\" fill=\"#1f77b4\"/>"
		     "<text x=\"%d\" y=\"45\">", F8_BARS_LABEL, F8_BARS_LABEL + 16);
	f8_plot_text_escaped(out, a_name ? a_name : "");
	fprintf(out, "</text>\n");
	if (b) {
		fprintf(out, "<rect x=\"%d\" y=\"36\" width=\"12\" height=\"10\" fill=\"#ff7f0e\"/>"
			     "<text x=\"%d\" y=\"45\">", F8_BARS_LABEL + 220, F8_BARS_LABEL + 236);
		f8_plot_text_escaped(out, b_name ? b_name : "");
		fprintf(out, "</text>\n");
	}
	for (t = 0; t <= nt; t++) {
		const double v = ax.lo + t * ax.step;
		const double x = F8_BARS_LABEL + plot_w * (v - ax.lo) / (ax.hi - ax.lo);

		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x,
			top - 4, x, top + n * F8_BARS_ROW);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x,
			top + n * F8_BARS_ROW + 16);
		f8_plot_tick_label(out, v, ax.step);
		fprintf(out, "</text>\n");
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", F8_BARS_LABEL + plot_w / 2,
		top + n * F8_BARS_ROW + 38);
	f8_plot_text_escaped(out, unit ? unit : "");
	fprintf(out, "</text>\n");
	for (i = 0; i < n; i++) {
		const int y = top + i * F8_BARS_ROW;
		const double va = isfinite(a[i]) ? fmin(fmax(a[i], 0), F8_PLOT_LIM) : 0;
		const double vb = b && isfinite(b[i]) ? fmin(fmax(b[i], 0), F8_PLOT_LIM) : 0;

		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", F8_BARS_LABEL - 6, y + 14);
		f8_plot_text_escaped(out, labels[i] ? labels[i] : "");
		fprintf(out, "</text>\n");
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#1f77b4\"/>\n",
			F8_BARS_LABEL, y + 2, plot_w * va / ax.hi, b ? 8 : 16);
		if (b)
			fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"8\" fill=\"#ff7f0e\"/>\n",
				F8_BARS_LABEL, y + 10, plot_w * vb / ax.hi);
	}
	fprintf(out, "</svg>\n");
	return ferror(out) ? F8_ERR_IO : F8_OK;
}
