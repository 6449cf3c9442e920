# Cluster-robust responder analysis: golden values for responders(..., cluster = "coach").
#
# Run from the repository root:
#   Rscript tests/reference/responders_cluster/make_golden.R   # writes golden_responders_cluster.csv
# CI does not need R; tests/analysis/test_responders_cluster.py reads the CSV.
#
# Inputs: ../analysis/trial_a.csv and trial_b.csv (coaches cross both arms). For each data set and
# cut-point (event = followup >= cut, rows with followup and baseline):
#   risk difference   lm(event ~ arm)                                 coefficient of arm
#   risk ratio        glm(event ~ arm, binomial(link = "log"))        exp(coefficient)
#   odds ratio        glm(event ~ arm, binomial)                      exp(coefficient)
#   adjusted OR       glm(event ~ arm + baseline, binomial)           exp(coefficient)
# each with sandwich::vcovCL(cluster = ~ coach, type = "HC1", cadjust = TRUE) (CR1), the
# t interval with G - 1 df (G = number of coaches) and its two-sided p-value.

suppressPackageStartupMessages(library(sandwich))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/responders_cluster"

rows <- list()
add <- function(case, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity,
                                           value = sprintf("%.17g", value))
}
measure <- function(case, name, fit, log_scale, g) {
  b <- unname(coef(fit)["armimmediate"])
  v <- vcovCL(fit, cluster = ~ coach, type = "HC1", cadjust = TRUE)
  se <- sqrt(v["armimmediate", "armimmediate"])
  crit <- qt(0.975, g - 1)
  tr <- if (log_scale) exp else identity
  add(case, paste0(name, "_estimate"), tr(b))
  add(case, paste0(name, "_std_error"), se)
  add(case, paste0(name, "_conf_low"), tr(b - crit * se))
  add(case, paste0(name, "_conf_high"), tr(b + crit * se))
  add(case, paste0(name, "_p_value"), 2 * pt(-abs(b / se), g - 1))
}
ctrl <- glm.control(epsilon = 1e-14, maxit = 100)
for (ds in c("a", "b")) {
  d <- read.csv(file.path(dirname(here), "analysis", sprintf("trial_%s.csv", ds)),
                stringsAsFactors = FALSE, na.strings = c("", "NA"))
  d$arm <- factor(d$arm, levels = c("delayed", "immediate"))
  d <- d[!is.na(d$followup) & !is.na(d$baseline) & !is.na(d$coach), ]
  g <- length(unique(d$coach))
  for (cut in c(1.0, 1.5)) {
    d$event <- as.integer(d$followup >= cut)
    case <- sprintf("%s_%g", ds, cut)
    add(case, "n_clusters", g)
    add(case, "n", nrow(d))
    measure(case, "rd", lm(event ~ arm, data = d), FALSE, g)
    measure(case, "rr", glm(event ~ arm, family = binomial(link = "log"), data = d,
                            control = ctrl), TRUE, g)
    measure(case, "or", glm(event ~ arm, family = binomial, data = d, control = ctrl), TRUE, g)
    measure(case, "or_adj", glm(event ~ arm + baseline, family = binomial, data = d,
                                control = ctrl), TRUE, g)
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "golden_responders_cluster.csv"), row.names = FALSE, quote = TRUE)
writeLines(c(R.version.string, paste("sandwich", packageVersion("sandwich"))),
           file.path(here, "r_versions.txt"))
cat("wrote", nrow(out), "rows\n")
