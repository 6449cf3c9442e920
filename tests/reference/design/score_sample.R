# Score the sample trial's raw item responses in base R, independently of coaching_trials.
#
# Input : sample_items.csv    (raw item responses, written by export_sample.py)
# Output: sample_scored.csv   (read by make_golden.R, make_golden_extra.R and the tests)
#
# Run from the repository root:  Rscript tests/reference/design/score_sample.R
# (make_golden.R sources this file first, so the golden numbers always start from R's scores.)
#
# The scoring rules of the five instruments are written out here from their definitions
# (src/coaching_trials/instruments/definitions/*.toml), not read from them:
#   - reverse keys: r' = response_min + response_max - r (none of these five instruments has a
#     reverse-keyed item; the CBI's is checked in tests/reference/instruments/);
#   - a subscale is scored when at least min_answered of its n items are answered (default:
#     half the items rounded up); with items missing the score is the mean of the answered
#     items (for a sum, that mean times n), else NA;
#   - a composite (PFI burnout, UWES-9 total) is the union of its parts' items, with its own
#     min_answered;
#   - the reported metric: item mean (PFI, UWES-9), sum (SVS), the raw item (QoL, IWPR).
# tests/design/test_delayed_golden.py::test_exported_sample_is_current compares this file with
# coaching_trials.score on the same responses (1e-9 relative), so a scoring bug in the package
# cannot pass into the golden numbers unseen.

here <- "tests/reference/design"
items <- read.csv(file.path(here, "sample_items.csv"), stringsAsFactors = FALSE)

pfi_range <- c(0, 4)
uwes_range <- c(0, 6)
scales <- list(
  # column, items, response range, reverse-keyed items, aggregation, min_answered
  list(column = "pfi_burnout", items = sprintf("pfi_%02d", 7:16), range = pfi_range,
       reverse = character(0), agg = "mean", k = 5),
  list(column = "pfi_pf", items = sprintf("pfi_%02d", 1:6), range = pfi_range,
       reverse = character(0), agg = "mean", k = 3),
  list(column = "pfi_id", items = sprintf("pfi_%02d", 11:16), range = pfi_range,
       reverse = character(0), agg = "mean", k = 3),
  list(column = "iwpr_score", items = "iwpr_01", range = c(0, 10),
       reverse = character(0), agg = "mean", k = 1),
  list(column = "qol_score", items = "qol_01", range = c(0, 10),
       reverse = character(0), agg = "mean", k = 1),
  list(column = "uwes9_total", items = sprintf("uwes_%02d", 1:9), range = uwes_range,
       reverse = character(0), agg = "mean", k = ceiling(9 / 2)),
  list(column = "svs_total", items = sprintf("svs_%02d", 1:4), range = c(0, 4),
       reverse = character(0), agg = "sum", k = 2)
)

score_scale <- function(s) {
  x <- as.matrix(items[, s$items, drop = FALSE])
  for (it in s$reverse) x[, it] <- sum(s$range) - x[, it]
  answered <- rowSums(!is.na(x))
  item_mean <- rowMeans(x, na.rm = TRUE)
  value <- if (s$agg == "sum") {
    ifelse(answered == length(s$items), rowSums(x), item_mean * length(s$items))
  } else {
    item_mean
  }
  value[answered < s$k] <- NA
  value
}

scored <- items[, c("participant_id", "arm", "wave")]
for (s in scales) scored[[s$column]] <- score_scale(s)
scored$sessions_attended <- items$sessions_attended
scored <- scored[order(scored$participant_id, scored$wave), ]

# the format export_sample.py used to write: 10 decimals, then 10 significant digits
for (s in scales) {
  v <- round(scored[[s$column]], 10)
  scored[[s$column]] <- ifelse(is.na(v), "", sprintf("%.10g", v))
}
write.csv(scored, file.path(here, "sample_scored.csv"), row.names = FALSE, quote = FALSE,
          na = "")
