# Independent golden scores for ct.score(), in base R only.
#
# Run from the repository root:
#   python tests/reference/instruments/make_inputs.py     # writes input_*.csv
#   Rscript tests/reference/instruments/make_golden.R     # writes golden_*.csv
#
# The scoring rules are re-implemented here from the instrument facts (shared/INSTRUMENTS.md,
# the TOML definitions' documented rules), not from the Python engine:
#   * reverse key: r' = min + max - r
#   * a subscale is scored when at least k of its n items are answered; the score is the mean
#     of the answered items (rowMeans(na.rm = TRUE)); a "sum" score is that mean times n
#     (prorated), which equals the plain sum when every item is answered
#   * metrics: PFI 0-10 = mean x 2.5, 0-100 = mean x 25; CBI 0-100 = mean x 25
#   * cut-points on the metric they are declared on: PFI PF mean >= 3.0, WE sum >= 7,
#     ID sum >= 9, burnout (WE + ID items) mean >= 1.33; MBI EE sum >= 27, DP sum >= 10,
#     PA sum <= 33, burnout = EE high | DP high (R's three-valued logic: TRUE | NA is TRUE)
# Output: one long CSV per instrument/metric with row_id and one column per score/flag;
# flags are written as TRUE/FALSE/NA, scores with 17 significant digits.

inputs <- function(name) {
  read.csv(file.path("tests/reference/instruments", name), colClasses = c(row_id = "character"))
}

sub_mean <- function(items, k) {
  answered <- rowSums(!is.na(items))
  m <- rowMeans(items, na.rm = TRUE)
  m[answered < k] <- NA_real_
  m
}

cols <- function(prefix, idx) sprintf("%s_%02d", prefix, idx)

write_golden <- function(frame, name) {
  out <- frame
  for (j in seq_along(out)) {
    if (is.double(out[[j]])) out[[j]] <- ifelse(is.na(out[[j]]), NA, sprintf("%.17g", out[[j]]))
  }
  write.csv(out, file.path("tests/reference/instruments", name), row.names = FALSE, na = "NA",
            quote = FALSE)
}

# ---------------------------------------------------------------- PFI (0-4, no reverse items)
pfi <- inputs("input_pfi.csv")
pf_m <- sub_mean(pfi[cols("pfi", 1:6)], 3)
we_m <- sub_mean(pfi[cols("pfi", 7:10)], 2)
id_m <- sub_mean(pfi[cols("pfi", 11:16)], 3)
bo_m <- sub_mean(pfi[cols("pfi", 7:16)], 5)
n_items <- c(pf = 6, we = 4, id = 6, burnout = 10)
flags <- data.frame(
  pfi_pf_high = pf_m >= 3.0,
  pfi_we_high = we_m * 4 >= 7,
  pfi_id_high = id_m * 6 >= 9,
  pfi_burnout_high = bo_m >= 1.33
)
metrics <- list(mean = 1, `0-10` = 2.5, `0-100` = 25)
pfi_rows <- list()
for (metric in c("mean", "sum", "0-10", "0-100")) {
  if (metric == "sum") {
    sc <- data.frame(pfi_pf = pf_m * 6, pfi_we = we_m * 4, pfi_id = id_m * 6,
                     pfi_burnout = bo_m * 10)
  } else {
    f <- metrics[[metric]]
    sc <- data.frame(pfi_pf = pf_m * f, pfi_we = we_m * f, pfi_id = id_m * f,
                     pfi_burnout = bo_m * f)
  }
  pfi_rows[[metric]] <- cbind(data.frame(row_id = pfi$row_id, metric = metric), sc, flags)
}
write_golden(do.call(rbind, pfi_rows), "golden_pfi.csv")

# ---------------------------------------------------------------- CBI (0-4, cbi_13 reversed)
cbi <- inputs("input_cbi.csv")
cbi$cbi_13 <- 0 + 4 - cbi$cbi_13
personal <- sub_mean(cbi[cols("cbi", 1:6)], 3)   # half of 6
work <- sub_mean(cbi[cols("cbi", 7:13)], 4)      # half of 7, rounded up
client <- sub_mean(cbi[cols("cbi", 14:19)], 3)
cbi_rows <- list()
for (metric in c("0-100", "mean")) {
  f <- if (metric == "0-100") 25 else 1
  cbi_rows[[metric]] <- data.frame(row_id = cbi$row_id, metric = metric,
                                   cbi_personal = personal * f, cbi_work = work * f,
                                   cbi_client = client * f)
}
write_golden(do.call(rbind, cbi_rows), "golden_cbi.csv")

# ---------------------------------------------------------------- MBI-HSS (0-6, sums)
mbi <- inputs("input_mbi.csv")
ee_m <- sub_mean(mbi[cols("mbi", c(1, 2, 3, 6, 8, 13, 14, 16, 20))], 5)
dp_m <- sub_mean(mbi[cols("mbi", c(5, 10, 11, 15, 22))], 3)
pa_m <- sub_mean(mbi[cols("mbi", c(4, 7, 9, 12, 17, 18, 19, 21))], 4)
ee_high <- ee_m * 9 >= 27
dp_high <- dp_m * 5 >= 10
mbi_rows <- list()
for (metric in c("sum", "mean")) {
  f <- if (metric == "sum") c(9, 5, 8) else c(1, 1, 1)
  mbi_rows[[metric]] <- data.frame(
    row_id = mbi$row_id, metric = metric,
    mbi_ee = ee_m * f[1], mbi_dp = dp_m * f[2], mbi_pa = pa_m * f[3],
    mbi_ee_high = ee_high, mbi_dp_high = dp_high, mbi_pa_low = pa_m * 8 <= 33,
    mbi_burnout = ee_high | dp_high
  )
}
write_golden(do.call(rbind, mbi_rows), "golden_mbi.csv")

writeLines(c(R.version.string, format(Sys.time(), "%Y-%m-%d", tz = "UTC")),
           "tests/reference/instruments/r_version.txt")
