# More golden numbers for DelayedInterventionTrial on the (synthetic) sample trial:
# cluster-robust comparisons, trial-level MMRM, dose-response variants and responders.
#
# Input : sample_scored.csv (scored in R by score_sample.R, run by make_golden.R),
#         sample_participants.csv (written by export_sample.py)
# Output: golden_extra.csv   (read by tests/design/test_delayed_golden_extra.py)
#
# Run from the repository root:  Rscript tests/reference/design/make_golden_extra.R
# Uses base R (lm, glm, prop.test), sandwich + lmtest (cluster-robust CR1), nlme::gls and
# emmeans, independent of the Python code: the reshaping is done here too.
#
# Columns as golden.csv: analysis, outcome, term, estimate, std_error, df, statistic, p_value,
# conf_low, conf_high, n.

suppressPackageStartupMessages({
  library(emmeans); library(nlme); library(sandwich); library(lmtest)
})

here <- "tests/reference/design"
long <- read.csv(file.path(here, "sample_scored.csv"), stringsAsFactors = FALSE)
part <- read.csv(file.path(here, "sample_participants.csv"), stringsAsFactors = FALSE,
                 na.strings = "")
outcomes <- c("pfi_burnout", "pfi_pf", "pfi_id", "iwpr_score", "qol_score", "uwes9_total",
              "svs_total")
ids <- sort(part$participant_id)
part <- part[match(ids, part$participant_id), ]
at_wave <- function(outcome, w) {
  sub <- long[long$wave == w, ]
  sub[[outcome]][match(ids, sub$participant_id)]
}

rows <- list()
add <- function(analysis, outcome, term, estimate, std_error = NA, df = NA, statistic = NA,
                p_value = NA, conf_low = NA, conf_high = NA, n = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    analysis = analysis, outcome = outcome, term = term, estimate = estimate,
    std_error = std_error, df = df, statistic = statistic, p_value = p_value,
    conf_low = conf_low, conf_high = conf_high, n = n, stringsAsFactors = FALSE)
}

# cluster ids: partially nested (delayed arm and missing ids: own cluster) or as given
own <- paste0("own_", ids)
cl_nested <- ifelse(is.na(part$coach_id) | part$arm == "delayed", own, part$coach_id)
cl_given <- ifelse(is.na(part$coach_id), own, part$coach_id)

add_cr1 <- function(analysis, y, fit, cl, term = "armimmediate") {
  used <- as.integer(rownames(model.frame(fit)))
  g <- length(unique(cl[used]))
  vc <- vcovCL(fit, cluster = cl[used], type = "HC1", cadjust = TRUE)
  ct <- coeftest(fit, vcov. = vc, df = g - 1)
  ci <- coefci(fit, vcov. = vc, df = g - 1)
  add(analysis, y, "immediate - delayed", ct[term, 1], ct[term, 2], g - 1, ct[term, 3],
      ct[term, 4], ci[term, 1], ci[term, 2], length(used))
}

for (y in outcomes) {
  d <- data.frame(arm = factor(part$arm, levels = c("delayed", "immediate")),
                  y0 = at_wave(y, "baseline"), y3 = at_wave(y, "month3"),
                  y6 = at_wave(y, "month6"), sessions = part$sessions_attended)
  d$change <- d$y3 - d$y0

  # 1. cluster-robust (CR1, df = G - 1) ANCOVA and change score, by coach_id
  for (nested in c(TRUE, FALSE)) {
    cl <- if (nested) cl_nested else cl_given
    tag <- if (nested) "nested" else "given"
    add_cr1(paste0("ancova_cr1_", tag), y, lm(y3 ~ arm + y0, data = d), cl)
    add_cr1(paste0("change_cr1_", tag), y, lm(change ~ arm, data = d), cl)
  }

  # 2. dose-response variants (change across coaching on sessions attended)
  imm <- d$arm == "immediate"
  pre <- ifelse(imm, d$y0, d$y3)
  post <- ifelse(imm, d$y3, d$y6)
  dose <- data.frame(change = post - pre, pre = pre, sessions = d$sessions, imm = imm)
  specs <- list(
    dose_immediate = list(f = change ~ sessions, sub = dose$imm),
    dose_delayed = list(f = change ~ sessions, sub = !dose$imm),
    dose_pooled_adjusted = list(f = change ~ sessions + pre, sub = rep(TRUE, nrow(dose))))
  for (nm in names(specs)) {
    fit <- lm(specs[[nm]]$f, data = dose[specs[[nm]]$sub, ])
    cf <- summary(fit)$coefficients
    ci <- confint(fit)
    add(nm, y, "sessions", cf["sessions", 1], cf["sessions", 2], fit$df.residual,
        cf["sessions", 3], cf["sessions", 4], ci["sessions", 1], ci["sessions", 2],
        nrow(model.frame(fit)))
  }
}

# 3. trial-level MMRM with nlme::gls (REML) + emmeans
#    (a) the declared design: one post-baseline visit (month3) -> gls with a single variance
#    (b) the sample re-declared with endpoint month6 (visits month3 and month6; the delayed arm
#        treated as waiting until month6 -- a plumbing check of the multi-visit MMRM, not an
#        analysis of this trial): unstructured covariance corSymm + varIdent.
emm_row <- function(analysis, y, fit, n) {
  emm <- emmeans(fit, ~ arm | wave, mode = "appx-satterthwaite")
  con <- summary(contrast(emm, list("immediate - delayed" = c(-1, 1))), infer = TRUE)
  for (k in seq_len(nrow(con))) {
    add(analysis, y, paste("immediate - delayed at", con$wave[k]), con$estimate[k], con$SE[k],
        con$df[k], con$t.ratio[k], con$p.value[k], con$lower.CL[k], con$upper.CL[k], n)
  }
}
set.seed(20240601)  # appx-satterthwaite perturbs variance parameters numerically
mmrm_outcomes <- c("pfi_burnout", "pfi_pf", "qol_score")
for (y in mmrm_outcomes) {
  base <- data.frame(participant_id = ids, arm = part$arm, y0 = at_wave(y, "baseline"))
  for (design in c("declared", "month6")) {
    visits <- if (design == "declared") "month3" else c("month3", "month6")
    lg <- long[long$wave %in% visits, c("participant_id", "wave", y)]
    names(lg)[3] <- "y"
    lg <- merge(lg, base, by = "participant_id")
    lg <- lg[complete.cases(lg$y, lg$y0), ]
    lg$arm <- factor(lg$arm, levels = c("delayed", "immediate"))
    lg$wave <- factor(lg$wave, levels = visits)
    lg$wave_index <- as.integer(lg$wave)
    lg <- lg[order(lg$participant_id, lg$wave), ]
    if (design == "declared") {
      fit <- gls(y ~ arm + y0, data = lg, method = "REML")
      emm <- emmeans(fit, ~ arm, mode = "appx-satterthwaite")
      con <- summary(contrast(emm, list("immediate - delayed" = c(-1, 1))), infer = TRUE)
      add("mmrm_declared", y, "immediate - delayed at month3", con$estimate, con$SE, con$df,
          con$t.ratio, con$p.value, con$lower.CL, con$upper.CL, nrow(lg))
    } else {
      fit <- gls(y ~ arm * wave + y0 * wave, data = lg, method = "REML",
                 correlation = corSymm(form = ~ wave_index | participant_id),
                 weights = varIdent(form = ~ 1 | wave))
      emm_row("mmrm_month6", y, fit, nrow(lg))
    }
  }
}

# 4. responders at month3: pfi_burnout >= 1.33 (rows with baseline observed)
for (y in c("pfi_burnout")) {
  d <- data.frame(arm = factor(part$arm, levels = c("delayed", "immediate")),
                  y0 = at_wave(y, "baseline"), y3 = at_wave(y, "month3"))
  d <- d[complete.cases(d), ]
  d$event <- d$y3 >= 1.33
  x <- c(sum(d$event[d$arm == "immediate"]), sum(d$event[d$arm == "delayed"]))
  n <- c(sum(d$arm == "immediate"), sum(d$arm == "delayed"))
  pt <- prop.test(x, n, correct = FALSE)
  add("responders_rd", y, "immediate - delayed", x[1] / n[1] - x[2] / n[2],
      statistic = NA, p_value = pt$p.value, n = sum(n))
  fit <- glm(event ~ arm + y0, family = binomial, data = d,
             control = glm.control(epsilon = 1e-14, maxit = 100))  # converge fully
  ci <- confint.default(fit)
  add("responders_or_adjusted", y, "immediate / delayed", exp(coef(fit)[["armimmediate"]]),
      std_error = summary(fit)$coefficients["armimmediate", 2],
      statistic = summary(fit)$coefficients["armimmediate", 3],
      p_value = summary(fit)$coefficients["armimmediate", 4],
      conf_low = exp(ci["armimmediate", 1]), conf_high = exp(ci["armimmediate", 2]),
      n = nrow(d))
}

golden <- do.call(rbind, rows)
write.csv(golden, file.path(here, "golden_extra.csv"), row.names = FALSE)
cat("wrote", nrow(golden), "rows with R", R.version.string, "; nlme",
    as.character(packageVersion("nlme")), "; emmeans", as.character(packageVersion("emmeans")),
    "; sandwich", as.character(packageVersion("sandwich")), "; lmtest",
    as.character(packageVersion("lmtest")), "\n")
