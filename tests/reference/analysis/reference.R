# Golden values for tests/analysis/*: run from this folder with `Rscript reference.R`.
# Inputs: trial_a.csv, trial_b.csv (written by make_inputs.py). Outputs: golden_*.csv in long
# form (case, quantity, value), printed with 17 significant digits.
# R 4.x with emmeans and sandwich (Debian r-cran-emmeans, r-cran-sandwich).
suppressPackageStartupMessages({
  library(emmeans)
  library(sandwich)
})
options(digits = 15)

rows <- list()
add <- function(case, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, value = value)
}
flush <- function(file) {
  out <- do.call(rbind, rows)
  out$value <- sprintf("%.17g", out$value)
  write.csv(out, file, row.names = FALSE, quote = TRUE)
  rows <<- list()
}
read_trial <- function(ds) {
  d <- read.csv(sprintf("trial_%s.csv", ds), stringsAsFactors = FALSE, na.strings = c("", "NA"))
  d$arm <- factor(d$arm, levels = c("delayed", "immediate"))
  d$site <- factor(d$site)
  d
}

# ---------------------------------------------------------------- ANCOVA + emmeans (+ HC3, CR1)
for (ds in c("a", "b")) {
  d <- read_trial(ds)
  models <- list(
    plain = followup ~ arm + baseline,
    cov = followup ~ arm + baseline + age + site
  )
  for (m in names(models)) {
    fit <- lm(models[[m]], data = d)  # na.omit: complete cases on the model variables
    used <- as.integer(rownames(model.frame(fit)))
    cl <- d$coach[used]
    G <- length(unique(cl))
    vcovs <- list(
      classical = list(V = vcov(fit), df = df.residual(fit)),
      HC3 = list(V = vcovHC(fit, type = "HC3"), df = df.residual(fit)),
      CR1 = list(V = vcovCL(fit, cluster = cl, type = "HC1", cadjust = TRUE), df = G - 1)
    )
    for (v in names(vcovs)) {
      V <- vcovs[[v]]$V
      dfv <- vcovs[[v]]$df
      case <- sprintf("%s_%s_%s", ds, m, v)
      est <- unname(coef(fit)["armimmediate"])
      se <- sqrt(V["armimmediate", "armimmediate"])
      tt <- est / se
      add(case, "estimate", est)
      add(case, "std_error", se)
      add(case, "df", dfv)
      add(case, "statistic", tt)
      add(case, "p_value", 2 * pt(-abs(tt), dfv))
      add(case, "conf_low", est - qt(0.975, dfv) * se)
      add(case, "conf_high", est + qt(0.975, dfv) * se)
      add(case, "n_treated", sum(d$arm[used] == "immediate"))
      add(case, "n_control", sum(d$arm[used] == "delayed"))
      add(case, "baseline_coef", unname(coef(fit)["baseline"]))
      add(case, "baseline_se", sqrt(V["baseline", "baseline"]))
      emm <- summary(emmeans(fit, "arm", vcov. = V))
      for (a in c("immediate", "delayed")) {
        r <- emm[emm$arm == a, ]
        add(case, paste0("emmean_", a), r$emmean)
        add(case, paste0("emmean_se_", a), r$SE)
        add(case, paste0("emmean_low_", a), r$emmean - qt(0.975, dfv) * r$SE)
        add(case, paste0("emmean_high_", a), r$emmean + qt(0.975, dfv) * r$SE)
        if (v != "CR1") add(case, paste0("emmeans_lower_CL_", a), r$lower.CL)  # emmeans' own CI
      }
    }
  }
}
flush("golden_ancova.csv")

# ---------------------------------------------------------------- change scores (t.test)
for (ds in c("a", "b")) {
  d <- read_trial(ds)
  d <- d[!is.na(d$followup) & !is.na(d$baseline), ]
  chg <- d$followup - d$baseline
  imm <- chg[d$arm == "immediate"]
  del <- chg[d$arm == "delayed"]
  for (method in c("pooled", "welch")) {
    tt <- t.test(imm, del, var.equal = (method == "pooled"))
    case <- sprintf("%s_%s", ds, method)
    add(case, "estimate", unname(tt$estimate[1] - tt$estimate[2]))
    add(case, "std_error", tt$stderr)
    add(case, "df", unname(tt$parameter))
    add(case, "statistic", unname(tt$statistic))
    add(case, "p_value", tt$p.value)
    add(case, "conf_low", tt$conf.int[1])
    add(case, "conf_high", tt$conf.int[2])
  }
  for (a in c("immediate", "delayed")) {
    x <- chg[d$arm == a]
    tt <- t.test(x)
    case <- sprintf("%s_within_%s", ds, a)
    add(case, "n", length(x))
    add(case, "mean_change", unname(tt$estimate))
    add(case, "sd_change", sd(x))
    add(case, "std_error", tt$stderr)
    add(case, "p_value", tt$p.value)
    add(case, "conf_low", tt$conf.int[1])
    add(case, "conf_high", tt$conf.int[2])
  }
}
flush("golden_change.csv")

# ---------------------------------------------------------------- p.adjust
p <- c(0.01, 0.04, NA, 0.03, 0.20, 0.005, 0.04, 0.5)
for (method in c("holm", "hochberg", "BH", "bonferroni")) {
  adj <- p.adjust(p, method = method)
  for (i in seq_along(p)) add(tolower(method), sprintf("p%d", i), adj[i])
}
for (i in seq_along(p)) add("raw", sprintf("p%d", i), p[i])
flush("golden_padjust.csv")

# ---------------------------------------------------------------- percent change (delta method)
# Var(mean_f / mean_b) ~ [var_f - 2 r cov_fb + r^2 var_b] / (n mean_b^2), r = mean_f / mean_b
for (ds in c("a", "b")) {
  d <- read_trial(ds)
  d <- d[!is.na(d$followup) & !is.na(d$baseline), ]
  pcs <- c()
  ses <- c()
  for (a in c("immediate", "delayed")) {
    f <- d$followup[d$arm == a]
    b <- d$baseline[d$arm == a]
    n <- length(f)
    r <- mean(f) / mean(b)
    v <- (var(f) - 2 * r * cov(f, b) + r^2 * var(b)) / (n * mean(b)^2)
    pc <- 100 * (r - 1)
    se <- 100 * sqrt(v)
    case <- sprintf("%s_%s", ds, a)
    add(case, "percent_change", pc)
    add(case, "std_error", se)
    add(case, "conf_low", pc - qnorm(0.975) * se)
    add(case, "conf_high", pc + qnorm(0.975) * se)
    pcs <- c(pcs, pc)
    ses <- c(ses, se)
  }
  case <- sprintf("%s_difference", ds)
  se <- sqrt(sum(ses^2))
  add(case, "estimate", pcs[1] - pcs[2])
  add(case, "std_error", se)
  add(case, "conf_low", pcs[1] - pcs[2] - qnorm(0.975) * se)
  add(case, "conf_high", pcs[1] - pcs[2] + qnorm(0.975) * se)
}
flush("golden_percent.csv")

# ---------------------------------------------------------------- effect sizes (by formula)
# Cohen's d on the pooled SD; Hedges' exact J = gamma(m/2) / (sqrt(m/2) gamma((m-1)/2));
# CI: noncentral t (pt(..., ncp =) inverted with uniroot), rescaled by sqrt(1/n1 + 1/n2).
hedges_j <- function(m) exp(lgamma(m / 2) - lgamma((m - 1) / 2)) / sqrt(m / 2)
nct_ci <- function(t, df, conf = 0.95) {
  a <- 1 - conf
  f <- function(ncp, p) pt(t, df, ncp) - p
  c(uniroot(f, c(t - 10, t + 10), p = 1 - a / 2, tol = 1e-13)$root,
    uniroot(f, c(t - 10, t + 10), p = a / 2, tol = 1e-13)$root)
}
smd <- function(x, y, conf = 0.95) {
  n1 <- length(x); n2 <- length(y); m <- n1 + n2 - 2
  sp <- sqrt(((n1 - 1) * var(x) + (n2 - 1) * var(y)) / m)
  d <- (mean(x) - mean(y)) / sp
  s <- sqrt(1 / n1 + 1 / n2)
  ci <- nct_ci(d / s, m, conf) * s
  se <- sqrt((n1 + n2) / (n1 * n2) + d^2 / (2 * (n1 + n2)))
  list(d = d, ci = ci, se = se, J = hedges_j(m), t = d / s, df = m)
}
morris <- function(dchg, sd_pre, n1, n2, rho, conf = 0.95) {
  n <- n1 + n2
  cp <- 1 - 3 / (4 * (n - 2) - 1)
  d <- cp * dchg / sd_pre
  k <- n / (n1 * n2)
  v <- 2 * cp^2 * (1 - rho) * k * ((n - 2) / (n - 4)) * (1 + d^2 / (2 * (1 - rho) * k)) - d^2
  z <- qnorm(0.5 + conf / 2)
  list(d = d, se = sqrt(v), ci = d + c(-1, 1) * z * sqrt(v), cp = cp)
}
for (ds in c("a", "b")) {
  d <- read_trial(ds)
  for (conf in c(0.95, 0.9)) {
    y <- d[!is.na(d$followup), ]
    r <- smd(y$followup[y$arm == "immediate"], y$followup[y$arm == "delayed"], conf)
    case <- sprintf("%s_%g", ds, conf)
    add(case, "cohen_d", r$d)
    add(case, "cohen_d_low", r$ci[1])
    add(case, "cohen_d_high", r$ci[2])
    add(case, "cohen_d_se", r$se)
    add(case, "hedges_g", r$J * r$d)
    add(case, "hedges_g_low", r$J * r$ci[1])
    add(case, "hedges_g_high", r$J * r$ci[2])
    add(case, "hedges_g_se", r$J * r$se)
    add(case, "statistic", r$t)
    add(case, "p_value", t.test(y$followup[y$arm == "immediate"], y$followup[y$arm == "delayed"],
                                var.equal = TRUE)$p.value)
    # Morris d_ppc2 on complete pairs; rho = pooled within-arm correlation
    cc <- d[!is.na(d$followup) & !is.na(d$baseline), ]
    g1 <- cc[cc$arm == "immediate", ]; g0 <- cc[cc$arm == "delayed", ]
    n1 <- nrow(g1); n0 <- nrow(g0)
    sbb <- (n1 - 1) * var(g1$baseline) + (n0 - 1) * var(g0$baseline)
    sff <- (n1 - 1) * var(g1$followup) + (n0 - 1) * var(g0$followup)
    sfb <- (n1 - 1) * cov(g1$followup, g1$baseline) + (n0 - 1) * cov(g0$followup, g0$baseline)
    rho <- sfb / sqrt(sbb * sff)
    dchg <- (mean(g1$followup) - mean(g1$baseline)) - (mean(g0$followup) - mean(g0$baseline))
    m <- morris(dchg, sqrt(sbb / (n1 + n0 - 2)), n1, n0, rho, conf)
    add(case, "ppc", m$d)
    add(case, "ppc_se", m$se)
    add(case, "ppc_low", m$ci[1])
    add(case, "ppc_high", m$ci[2])
    add(case, "ppc_rho", rho)
    add(case, "ppc_cp", m$cp)
  }
}
flush("golden_effect_size.csv")

# ---------------------------------------------------------------- responders
# Wilson intervals from prop.test(correct = FALSE); Newcombe (1998) method 10 by formula;
# RR log-Wald and OR Woolf by formula; adjusted OR from glm(binomial) with confint.default.
for (ds in c("a", "b")) {
  d <- read_trial(ds)
  d <- d[!is.na(d$followup) & !is.na(d$baseline), ]
  for (cut in c(1.0, 1.5)) {
    d$event <- as.integer(d$followup >= cut)
    x1 <- sum(d$event[d$arm == "immediate"]); n1 <- sum(d$arm == "immediate")
    x0 <- sum(d$event[d$arm == "delayed"]); n0 <- sum(d$arm == "delayed")
    w1 <- prop.test(x1, n1, correct = FALSE)$conf.int
    w0 <- prop.test(x0, n0, correct = FALSE)$conf.int
    p1 <- x1 / n1; p0 <- x0 / n0; rd <- p1 - p0
    case <- sprintf("%s_%g", ds, cut)
    add(case, "events_treated", x1); add(case, "events_control", x0)
    add(case, "wilson_low_treated", w1[1]); add(case, "wilson_high_treated", w1[2])
    add(case, "wilson_low_control", w0[1]); add(case, "wilson_high_control", w0[2])
    add(case, "rd", rd)
    add(case, "rd_low", rd - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2))
    add(case, "rd_high", rd + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
    add(case, "rd_p", prop.test(c(x1, x0), c(n1, n0), correct = FALSE)$p.value)
    se_rr <- sqrt(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0)
    add(case, "rr", p1 / p0)
    add(case, "rr_low", exp(log(p1 / p0) - qnorm(0.975) * se_rr))
    add(case, "rr_high", exp(log(p1 / p0) + qnorm(0.975) * se_rr))
    or <- (x1 * (n0 - x0)) / ((n1 - x1) * x0)
    se_or <- sqrt(1 / x1 + 1 / (n1 - x1) + 1 / x0 + 1 / (n0 - x0))
    add(case, "or", or)
    add(case, "or_low", exp(log(or) - qnorm(0.975) * se_or))
    add(case, "or_high", exp(log(or) + qnorm(0.975) * se_or))
    fit <- glm(event ~ arm + baseline, family = binomial, data = d,
               control = glm.control(epsilon = 1e-14, maxit = 100))
    add(case, "or_adj", exp(unname(coef(fit)["armimmediate"])))
    ci <- confint.default(fit)["armimmediate", ]
    add(case, "or_adj_low", exp(ci[1]))
    add(case, "or_adj_high", exp(ci[2]))
    add(case, "or_adj_p", summary(fit)$coefficients["armimmediate", 4])
  }
}
flush("golden_responders.csv")

# ---------------------------------------------------------------- from summary statistics
# Dyrbye LN et al. JAMA Intern Med 2019;179(10):1406-1414 (doi:10.1001/jamainternmed.2019.2425):
# change in MBI emotional exhaustion -5.2 (SD 8.7) coaching vs +1.5 (SD 7.7) control;
# overall QOL +1.2 (2.5) vs +0.1 (1.7). Two-sample t from summaries, by formula.
tsum <- function(m, s, n, pooled) {
  diff <- m[1] - m[2]
  if (pooled) {
    sp <- sqrt(sum((n - 1) * s^2) / (sum(n) - 2)); se <- sp * sqrt(sum(1 / n)); df <- sum(n) - 2
  } else {
    v <- s^2 / n; se <- sqrt(sum(v)); df <- sum(v)^2 / sum(v^2 / (n - 1))
  }
  t <- diff / se
  list(diff = diff, se = se, df = df, t = t, p = 2 * pt(-abs(t), df),
       ci = diff + c(-1, 1) * qt(0.975, df) * se)
}
summ <- list(
  dyrbye_ee = list(m = c(-5.2, 1.5), s = c(8.7, 7.7)),
  dyrbye_qol = list(m = c(1.2, 0.1), s = c(2.5, 1.7))
)
for (nm in names(summ)) {
  for (n in list(c(44, 44), c(40, 38))) {
    for (pooled in c(TRUE, FALSE)) {
      r <- tsum(summ[[nm]]$m, summ[[nm]]$s, n, pooled)
      case <- sprintf("%s_%d_%d_%s", nm, n[1], n[2], if (pooled) "pooled" else "welch")
      add(case, "estimate", r$diff); add(case, "std_error", r$se); add(case, "df", r$df)
      add(case, "statistic", r$t); add(case, "p_value", r$p)
      add(case, "conf_low", r$ci[1]); add(case, "conf_high", r$ci[2])
    }
    sp <- sqrt(sum((n - 1) * summ[[nm]]$s^2) / (sum(n) - 2))
    xs <- (summ[[nm]]$m[1] - summ[[nm]]$m[2]) / sp
    s <- sqrt(1 / n[1] + 1 / n[2])
    ci <- nct_ci(xs / s, sum(n) - 2) * s
    case <- sprintf("%s_%d_%d_g", nm, n[1], n[2])
    add(case, "hedges_g", hedges_j(sum(n) - 2) * xs)
    add(case, "hedges_g_low", hedges_j(sum(n) - 2) * ci[1])
    add(case, "hedges_g_high", hedges_j(sum(n) - 2) * ci[2])
  }
}
# Made-up baseline/follow-up summaries with r = 0.6: change SD derived, d_ppc2 (Morris eq. 25)
bm <- c(30, 29); bs <- c(10, 11); fm <- c(24, 30); fs <- c(9, 12); n <- c(40, 42); rho <- 0.6
cs <- sqrt(bs^2 + fs^2 - 2 * rho * bs * fs)
r <- tsum(fm - bm, cs, n, TRUE)
add("derived", "estimate", r$diff); add("derived", "std_error", r$se)
add("derived", "p_value", r$p); add("derived", "change_sd_treated", cs[1])
add("derived", "change_sd_control", cs[2])
m <- morris(r$diff, sqrt(sum((n - 1) * bs^2) / (sum(n) - 2)), n[1], n[2], rho)
add("derived", "ppc", m$d); add("derived", "ppc_se", m$se)
add("derived", "ppc_low", m$ci[1]); add("derived", "ppc_high", m$ci[2])
flush("golden_summary.csv")

# ---------------------------------------------------------------- provenance
writeLines(c(R.version.string,
             paste("emmeans", packageVersion("emmeans")),
             paste("sandwich", packageVersion("sandwich"))), "r_versions.txt")
