# Golden values for coaching_trials.analysis.clustered (clustered_ancova) from R.
#
# Run from the repository root:
#   python tests/reference/clustered/make_inputs.py   # writes group_trial.csv (committed)
#   Rscript tests/reference/clustered/make_golden.R   # writes golden_clustered.csv (committed)
# CI does not need R; the tests only read the CSV files.
#
# Models (REML; follow-up on arm + baseline [+ age + site]):
#   partially nested (pn): coached participants share a random group intercept, wait-list
#     participants are their own singleton cluster with no random effect. Written as in the
#     literature (Roberts & Roberts 2005; Candlish et al. 2018): a random slope on the 0/1
#     coached indicator within `cl`, where cl = group id (coached) or participant id (wait-list).
#       heteroscedastic: nlme::lme(random = list(cl = pdDiag(~ 0 + treat)),
#                                  weights = varIdent(form = ~ 1 | arm))
#       homoscedastic:   lme4::lmer(y ~ ... + (0 + treat | cl)) + lmerTest + pbkrtest
#   fully nested (fn): a random group intercept in both arms (wait-list groups `group_all`)
#       homoscedastic:   lme4::lmer(y ~ ... + (1 | group_all)) + lmerTest + pbkrtest
#       heteroscedastic: nlme::lme(random = ~ 1 | group_all, weights = varIdent(form = ~ 1 | arm))
#
# Degrees of freedom. lmerTest (Satterthwaite) and pbkrtest (Kenward-Roger) only take lmer
# fits. nlme reports "containment" df, which the Python code does not implement. For the nlme
# (heteroscedastic) fits the Satterthwaite and Kenward-Roger df are computed below by a
# dense-matrix implementation written for this script: Satterthwaite from the numerical Hessian
# (numDeriv) of the REML deviance in the variance parameters and the numerical gradient of
# var(beta_j); Kenward-Roger from the formulas of Kenward & Roger (1997, Biometrics 53:983)
# with a linear covariance parameterization (no second-derivative term). The script first checks
# that these dense functions reproduce lmerTest and pbkrtest on the homoscedastic lmer fits.
#
# Output: golden_clustered.csv, long format (case, quantity, value; 15 significant digits),
# r_versions.txt.

suppressPackageStartupMessages({
  library(nlme)
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(numDeriv)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/clustered"

raw <- read.csv(file.path(here, "group_trial.csv"), stringsAsFactors = FALSE,
                na.strings = c("", "NA"))
raw$arm <- factor(raw$arm, levels = c("delayed", "immediate"))
raw$site <- factor(raw$site, levels = c("north", "south", "west"))
raw$treat <- as.numeric(raw$arm == "immediate")

# partially nested sample: rows with follow-up and baseline; coached rows need a group id
pn <- subset(raw, !is.na(followup) & !is.na(baseline) & !(treat == 1 & is.na(group)))
pn$cl <- factor(ifelse(pn$treat == 1, pn$group, pn$participant_id))
# fully nested sample
fn <- subset(raw, !is.na(followup_full) & !is.na(baseline))
fn$cl <- factor(fn$group_all)

fmt <- function(x) trimws(formatC(x, digits = 15, format = "g"))
out <- list()
put <- function(case, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, quantity = quantity, value = fmt(value))
}

# ---- dense-matrix REML machinery (variance parameters theta, V = sum theta_k G_k) ----------
g_mats <- function(d, nested, hetero) {
  n <- nrow(d)
  z <- model.matrix(~ 0 + cl, d)
  if (nested) z <- z * d$treat  # no random effect for wait-list singletons
  g <- list(u = z %*% t(z))
  if (hetero) {
    g$e_treated <- diag(d$treat)
    g$e_control <- diag(1 - d$treat)
  } else {
    g$e <- diag(n)
  }
  g
}
vmat <- function(theta, g) Reduce(`+`, Map(`*`, theta, g))
reml_dev <- function(theta, xm, y, g) {
  x <- xm
  v <- vmat(theta, g)
  vi <- solve(v)
  xvx <- t(x) %*% vi %*% x
  b <- solve(xvx, t(x) %*% vi %*% y)
  r <- y - x %*% b
  (nrow(x) - ncol(x)) * log(2 * pi) + as.numeric(determinant(v)$modulus) +
    as.numeric(determinant(xvx)$modulus) + as.numeric(t(r) %*% vi %*% r)
}
phi_of <- function(theta, x, g) solve(t(x) %*% solve(vmat(theta, g)) %*% x)
satterthwaite_df <- function(theta, x, y, g) {
  a <- 2 * solve(numDeriv::hessian(reml_dev, theta, xm = x, y = y, g = g))
  sapply(seq_len(ncol(x)), function(j) {
    vj <- function(th) phi_of(th, x, g)[j, j]
    gr <- numDeriv::grad(vj, theta)
    2 * vj(theta)^2 / as.numeric(t(gr) %*% a %*% gr)
  })
}
kenward_roger <- function(theta, x, g) {
  vi <- solve(vmat(theta, g))
  phi <- solve(t(x) %*% vi %*% x)
  k <- length(g)
  p_list <- lapply(g, function(gi) -t(x) %*% vi %*% gi %*% vi %*% x)
  q_of <- function(i, j) t(x) %*% vi %*% g[[i]] %*% vi %*% g[[j]] %*% vi %*% x
  ie <- matrix(0, k, k)
  for (i in 1:k) for (j in 1:k) {
    ie[i, j] <- sum(diag(vi %*% g[[i]] %*% vi %*% g[[j]])) - 2 * sum(diag(phi %*% q_of(i, j))) +
      sum(diag(phi %*% p_list[[i]] %*% phi %*% p_list[[j]]))
  }
  w <- 2 * solve(ie)
  u <- matrix(0, ncol(x), ncol(x))
  for (i in 1:k) for (j in 1:k) {
    u <- u + w[i, j] * (q_of(i, j) - p_list[[i]] %*% phi %*% p_list[[j]])
  }
  phi_a <- phi + 2 * phi %*% u %*% phi
  dv <- sapply(p_list, function(pi) diag(phi %*% pi %*% phi))  # p x k: d var(beta_j)/d theta
  dv <- matrix(dv, nrow = ncol(x))
  df <- sapply(seq_len(ncol(x)), function(j) 2 * phi[j, j]^2 / as.numeric(dv[j, ] %*% w %*% dv[j, ]))
  list(se = sqrt(diag(phi_a)), df = df)
}

formula_of <- function(outcome, covariates) {
  rhs <- paste(c("arm", "baseline", covariates), collapse = " + ")
  as.formula(paste(outcome, "~", rhs))
}

# ---- lmer fits (homoscedastic) ---------------------------------------------------------------
fit_lmer <- function(case, d, outcome, covariates, nested) {
  re <- if (nested) "(0 + treat | cl)" else "(1 | cl)"
  f <- as.formula(paste(deparse(formula_of(outcome, covariates)), "+", re))
  fit <- lmerTest::lmer(
    f, data = d, REML = TRUE,
    control = lmerControl(optimizer = "nloptwrap",
                          optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, maxeval = 1e5))
  )
  sat <- summary(fit, ddf = "Satterthwaite")$coefficients
  kr_v <- as.matrix(pbkrtest::vcovAdj(fit))
  kr_df <- sapply(seq_len(nrow(sat)), function(j) {
    l <- matrix(0, 1, nrow(sat)); l[1, j] <- 1
    pbkrtest::get_Lb_ddf(fit, l)
  })
  terms <- rownames(sat)
  vc <- as.data.frame(VarCorr(fit))
  s2u <- vc$vcov[1]
  s2e <- sigma(fit)^2
  for (j in seq_along(terms)) {
    put(case, paste0("estimate:", terms[j]), sat[j, "Estimate"])
    put(case, paste0("std_error:", terms[j]), sat[j, "Std. Error"])
    put(case, paste0("df_satterthwaite:", terms[j]), sat[j, "df"])
    put(case, paste0("std_error_kr:", terms[j]), sqrt(kr_v[j, j]))
    put(case, paste0("df_kr:", terms[j]), kr_df[j])
  }
  put(case, "var_cluster", s2u)
  put(case, "var_residual", s2e)
  put(case, "loglik", as.numeric(logLik(fit)))
  put(case, "n_obs", nobs(fit))
  # the dense functions must reproduce lmerTest and pbkrtest (validates them for nlme fits)
  x <- getME(fit, "X")
  y <- d[[outcome]]
  g <- g_mats(d, nested, hetero = FALSE)
  theta <- c(s2u, s2e)
  dense_sat <- satterthwaite_df(theta, x, y, g)
  dense_kr <- kenward_roger(theta, x, g)
  stopifnot(
    max(abs(dense_sat / sat[, "df"] - 1)) < 1e-4,
    max(abs(dense_kr$df / kr_df - 1)) < 1e-6,
    max(abs(dense_kr$se / sqrt(diag(kr_v)) - 1)) < 1e-6,
    abs(-reml_dev(theta, x, y, g) / 2 - as.numeric(logLik(fit))) < 1e-6
  )
  invisible(fit)
}

# ---- nlme fits (heteroscedastic) -------------------------------------------------------------
fit_lme <- function(case, d, outcome, covariates, nested) {
  ctrl <- lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-12, msTol = 1e-14,
                     niterEM = 100, returnObject = FALSE)
  random <- if (nested) list(cl = pdDiag(~ 0 + treat)) else list(cl = pdIdent(~ 1))
  fit <- lme(formula_of(outcome, covariates), data = d, random = random,
             weights = varIdent(form = ~ 1 | arm), method = "REML", control = ctrl)
  tt <- summary(fit)$tTable
  terms <- rownames(tt)
  s2u <- as.numeric(getVarCov(fit, type = "random.effects")[1, 1])
  ratio <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  s2e <- (fit$sigma * ratio)^2
  x <- model.matrix(formula_of(outcome, covariates), d)
  y <- d[[outcome]]
  g <- g_mats(d, nested, hetero = TRUE)
  theta <- c(s2u, s2e[["immediate"]], s2e[["delayed"]])
  stopifnot(abs(-reml_dev(theta, x, y, g) / 2 - as.numeric(logLik(fit))) < 1e-6)
  sat <- satterthwaite_df(theta, x, y, g)
  kr <- kenward_roger(theta, x, g)
  for (j in seq_along(terms)) {
    put(case, paste0("estimate:", terms[j]), tt[j, "Value"])
    put(case, paste0("std_error:", terms[j]), tt[j, "Std.Error"])
    put(case, paste0("df_satterthwaite:", terms[j]), sat[j])
    put(case, paste0("std_error_kr:", terms[j]), kr$se[j])
    put(case, paste0("df_kr:", terms[j]), kr$df[j])
    put(case, paste0("df_containment_nlme:", terms[j]), tt[j, "DF"])
  }
  put(case, "var_cluster", s2u)
  put(case, "var_residual_treated", s2e[["immediate"]])
  put(case, "var_residual_control", s2e[["delayed"]])
  put(case, "loglik", as.numeric(logLik(fit)))
  put(case, "n_obs", nrow(d))
  invisible(fit)
}

covs <- c("age", "site")
fit_lme("pn_het", pn, "followup", character(0), nested = TRUE)
fit_lme("pn_het_cov", pn, "followup", covs, nested = TRUE)
fit_lmer("pn_hom", pn, "followup", character(0), nested = TRUE)
fit_lmer("pn_hom_cov", pn, "followup", covs, nested = TRUE)
fit_lmer("fn_hom", fn, "followup_full", character(0), nested = FALSE)
fit_lme("fn_het", fn, "followup_full", character(0), nested = FALSE)

# cross-check: the homoscedastic partially nested model in nlme gives the lmer estimates
chk <- lme(followup ~ arm + baseline, data = pn, random = list(cl = pdDiag(~ 0 + treat)),
           method = "REML", control = lmeControl(tolerance = 1e-12, msTol = 1e-14))
fit_chk <- lmer(followup ~ arm + baseline + (0 + treat | cl), data = pn, REML = TRUE)
stopifnot(max(abs(fixef(chk) - fixef(fit_chk))) < 1e-5)

golden <- do.call(rbind, out)
write.csv(golden, file.path(here, "golden_clustered.csv"), row.names = FALSE, quote = TRUE)
writeLines(
  c(R.version.string,
    paste("nlme", packageVersion("nlme")), paste("lme4", packageVersion("lme4")),
    paste("lmerTest", packageVersion("lmerTest")), paste("pbkrtest", packageVersion("pbkrtest")),
    paste("numDeriv", packageVersion("numDeriv"))),
  file.path(here, "r_versions.txt")
)
cat("wrote", nrow(golden), "rows\n")
