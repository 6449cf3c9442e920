# Kenward-Roger with the observed and with the expected information, for the package's
# `kr_information` option of mmrm() / fit_gls() and clustered_ancova().
#
# Run from the repository root:
#   Rscript tests/reference/kr_information/make_golden.R   # writes golden_kr.csv, r_versions.txt
# CI does not need R; tests/analysis/test_kr_information.py reads the CSV.
#
# Inputs (committed elsewhere): ../mmrm_fev/fev_data.csv (the fev_data of the openpharma mmrm
# package, with SAS PROC MIXED output in ../mmrm_fev/) and ../clustered/group_trial.csv.
#
# Cases (all REML, random intercept = compound symmetry with a non-negative covariance):
#   fev_arm    FEV1 ~ ARMCD + (1 | USUBJID)                      (SAS model CS_ARMCD_REML_KR)
#   fev_visit  FEV1 ~ RACE + SEX + ARMCD * AVISIT + (1 | USUBJID); the arm contrast at each visit
#   pn_hom     followup ~ arm + baseline + (0 + treat | cl)   (partially nested, see ../clustered)
#   fn_hom     followup_full ~ arm + baseline + (1 | group_all)  (fully nested)
#
# "expected": pbkrtest (vcovAdj for the adjusted covariance, get_Lb_ddf for the df), which uses
# the expected information of the variance parameters.
# "observed": the same Kenward & Roger (1997) formulas (linear covariance parameterization, so no
# second-derivative term) with W = 2 H^-1, H the numerical Hessian (numDeriv) of the REML
# deviance at the lmer estimates -- SAS PROC MIXED's DDFM=KR convention. The dense functions
# below are checked to reproduce pbkrtest when given the expected information (stopifnot, 1e-6),
# and the observed version to reproduce SAS's printed df for fev_arm (within 0.5).

suppressPackageStartupMessages({
  library(lme4)
  library(pbkrtest)
  library(numDeriv)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/kr_information"
ref <- dirname(here)

fmt <- function(x) trimws(formatC(x, digits = 15, format = "g"))
rows <- list()
put <- function(case, contrast, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, contrast = contrast,
                                           quantity = quantity, value = fmt(value))
}

# V = theta_1 Z Z' + theta_2 I: dense REML deviance, information and KR pieces
v_of <- function(theta, g) theta[1] * g[[1]] + theta[2] * g[[2]]
deviance_reml <- function(theta, xm, y, g) {
  x <- xm
  vi <- solve(v_of(theta, g))
  xvx <- crossprod(x, vi %*% x)
  b <- solve(xvx, crossprod(x, vi %*% y))
  r <- y - x %*% b
  (nrow(x) - ncol(x)) * log(2 * pi) + as.numeric(determinant(v_of(theta, g))$modulus) +
    as.numeric(determinant(xvx)$modulus) + sum(r * (vi %*% r))
}
kr_pieces <- function(theta, x, g) {
  vi <- solve(v_of(theta, g))
  phi <- solve(crossprod(x, vi %*% x))
  vig <- lapply(g, function(gk) vi %*% gk)
  pk <- lapply(vig, function(a) -crossprod(x, a %*% vi %*% x))
  qk <- function(i, j) crossprod(x, vig[[i]] %*% vig[[j]] %*% vi %*% x)
  k <- length(g)
  expected <- matrix(0, k, k)
  for (i in 1:k) for (j in 1:k) {
    expected[i, j] <- sum(t(vig[[i]]) * vig[[j]]) - 2 * sum(diag(phi %*% qk(i, j))) +
      sum(diag(phi %*% pk[[i]] %*% phi %*% pk[[j]]))
  }
  list(phi = phi, pk = pk, qk = qk, expected = expected)
}
kr_rows <- function(pieces, w, lmat) {
  phi <- pieces$phi
  k <- length(pieces$pk)
  u <- 0 * phi
  for (i in 1:k) for (j in 1:k) {
    u <- u + w[i, j] * (pieces$qk(i, j) - pieces$pk[[i]] %*% phi %*% pieces$pk[[j]])
  }
  phi_a <- phi + 2 * phi %*% u %*% phi
  t(apply(lmat, 1, function(l) {
    v <- sum(l * (phi %*% l))
    gr <- sapply(pieces$pk, function(p) sum(l * (phi %*% p %*% phi %*% l)))
    c(df = 2 * v^2 / sum(gr * (w %*% gr)), se = sqrt(sum(l * (phi_a %*% l))))
  }))
}

run_case <- function(case, fit, g, y, lmat) {
  x <- getME(fit, "X")
  theta <- c(as.data.frame(VarCorr(fit))$vcov[1], sigma(fit)^2)
  stopifnot(theta[1] > 0)
  pieces <- kr_pieces(theta, x, g)
  w_exp <- 2 * solve(pieces$expected)
  w_obs <- 2 * solve(numDeriv::hessian(deviance_reml, theta, xm = x, y = y, g = g))
  dense_exp <- kr_rows(pieces, w_exp, lmat)
  dense_obs <- kr_rows(pieces, w_obs, lmat)
  vadj <- as.matrix(pbkrtest::vcovAdj(fit))
  pb_df <- apply(lmat, 1, function(l) pbkrtest::get_Lb_ddf(fit, matrix(l, nrow = 1)))
  pb_se <- apply(lmat, 1, function(l) sqrt(sum(l * (vadj %*% l))))
  stopifnot(max(abs(dense_exp[, "df"] / pb_df - 1)) < 1e-6,
            max(abs(dense_exp[, "se"] / pb_se - 1)) < 1e-6)
  est <- drop(lmat %*% fixef(fit))
  for (r in seq_len(nrow(lmat))) {
    name <- rownames(lmat)[r]
    put(case, name, "estimate", est[r])
    put(case, name, "df_expected", pb_df[r])
    put(case, name, "std_error_expected", pb_se[r])
    put(case, name, "df_observed", dense_obs[r, "df"])
    put(case, name, "std_error_observed", dense_obs[r, "se"])
  }
  put(case, "", "var_random_intercept", theta[1])
  put(case, "", "var_residual", theta[2])
  put(case, "", "n_obs", nrow(x))
  invisible(list(theta = theta, observed = dense_obs))
}
ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, maxeval = 1e5))
unit <- function(p, j) { l <- rep(0, p); l[j] <- 1; l }

# ---- fev_data ------------------------------------------------------------------------------
fev <- read.csv(file.path(ref, "mmrm_fev", "fev_data.csv"), stringsAsFactors = FALSE)
fev <- fev[!is.na(fev$FEV1), ]
fev$ARMCD <- factor(fev$ARMCD, levels = c("PBO", "TRT"))
fev$AVISIT <- factor(fev$AVISIT, levels = c("VIS1", "VIS2", "VIS3", "VIS4"))
fev$SEX <- factor(fev$SEX, levels = c("Male", "Female"))
fev$RACE <- factor(fev$RACE)
fev$USUBJID <- factor(fev$USUBJID)
g_fev <- list(tcrossprod(model.matrix(~ 0 + USUBJID, fev)), diag(nrow(fev)))

fit_arm <- lmer(FEV1 ~ ARMCD + (1 | USUBJID), data = fev, REML = TRUE, control = ctrl)
l_arm <- rbind(Intercept = unit(2, 1), `ARMCD[TRT]` = unit(2, 2))
arm <- run_case("fev_arm", fit_arm, g_fev, fev$FEV1, l_arm)
sas <- read.csv(file.path(ref, "mmrm_fev", "fixed_effects.csv"), stringsAsFactors = FALSE)
sas <- sas[sas$model_id == "CS_ARMCD_REML_KR", ]
stopifnot(max(abs(arm$observed[, "df"] - sas$df)) < 0.5)  # SAS prints integer df

fit_vis <- lmer(FEV1 ~ RACE + SEX + ARMCD * AVISIT + (1 | USUBJID), data = fev, REML = TRUE,
                control = ctrl)
cn <- names(fixef(fit_vis))
l_vis <- t(sapply(levels(fev$AVISIT), function(v) {
  l <- setNames(rep(0, length(cn)), cn)
  l["ARMCDTRT"] <- 1
  if (v != "VIS1") l[paste0("ARMCDTRT:AVISIT", v)] <- 1
  l
}))
run_case("fev_visit", fit_vis, g_fev, fev$FEV1, l_vis)

# ---- group-coaching trial (../clustered) -------------------------------------------------------
raw <- read.csv(file.path(ref, "clustered", "group_trial.csv"), stringsAsFactors = FALSE,
                na.strings = c("", "NA"))
raw$arm <- factor(raw$arm, levels = c("delayed", "immediate"))
raw$treat <- as.numeric(raw$arm == "immediate")
pn <- subset(raw, !is.na(followup) & !is.na(baseline) & !(treat == 1 & is.na(group)))
pn$cl <- factor(ifelse(pn$treat == 1, pn$group, pn$participant_id))
fn <- subset(raw, !is.na(followup_full) & !is.na(baseline))
fn$cl <- factor(fn$group_all)
l3 <- rbind(`(Intercept)` = unit(3, 1), arm = unit(3, 2), baseline = unit(3, 3))

fit_pn <- lmer(followup ~ arm + baseline + (0 + treat | cl), data = pn, REML = TRUE,
               control = ctrl)
z_pn <- model.matrix(~ 0 + cl, pn) * pn$treat
run_case("pn_hom", fit_pn, list(tcrossprod(z_pn), diag(nrow(pn))), pn$followup, l3)

fit_fn <- lmer(followup_full ~ arm + baseline + (1 | cl), data = fn, REML = TRUE, control = ctrl)
z_fn <- model.matrix(~ 0 + cl, fn)
run_case("fn_hom", fit_fn, list(tcrossprod(z_fn), diag(nrow(fn))), fn$followup_full, l3)

golden <- do.call(rbind, rows)
write.csv(golden, file.path(here, "golden_kr.csv"), row.names = FALSE, quote = TRUE)
writeLines(
  c(R.version.string, paste("lme4", packageVersion("lme4")),
    paste("pbkrtest", packageVersion("pbkrtest")), paste("numDeriv", packageVersion("numDeriv"))),
  file.path(here, "r_versions.txt")
)
cat("wrote", nrow(golden), "rows\n")
