/* SPDX-License-Identifier: MIT */
/*
 * Training curves as a self-contained SVG (no scripts, no external fonts): two panels,
 * loss and accuracy per epoch, train (solid) and test (dashed), with axes, ticks,
 * labels and a legend. Written by `f8 train` after every epoch (docs/train.md).
 */
#ifndef F8_PLOT_H
#define F8_PLOT_H

#include <stdio.h>

#include "f8-ckpt.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Write the SVG document of @n history entries to @out; @title (may be NULL) is shown
 * above the panels, XML-escaped. Non-finite values are left out of the lines. F8_OK or
 * F8_ERR_IO when the stream reports an error.
 */
int f8_plot_curves_svg(FILE *out, const struct f8_epoch_stats *history, int n, const char *title);

/*
 * A horizontal bar chart of @n items: item i is @labels[i] with bar @a[i] and, when @b is not
 * NULL, a second bar @b[i] under it (e.g. measured and predicted cycles per layer); the axis
 * starts at 0 and is titled @unit. Text is XML-escaped. F8_OK or F8_ERR_IO.
 */
int f8_plot_bars_svg(FILE *out, const char *title, const char *unit, int n,
		     const char *const *labels, const double *a, const char *a_name,
		     const double *b, const char *b_name);

#ifdef __cplusplus
}
#endif
#endif
