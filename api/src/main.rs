//! The `maillage` binary: parses the configuration once and runs a command.

use std::process::ExitCode;
use std::time::Instant;

use api::auth::{Actor, Authenticator, Role, dev_token};
use api::clock::Clock;
use api::config::{
    Cli, Command, DbConfig, ImportArgs, ImportCompetencesArgs, LogFormat, ServeConfig, TokenArgs,
};
use api::domain::audit::WriteContext;
use api::domain::competences::{Catalogue, bulk};
use api::{AppState, db, reference};
use clap::Parser;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: api::allocator::Mimalloc = api::allocator::Mimalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Some(Command::Serve(cfg)) => cfg.log_format,
        _ => cli.serve.log_format,
    };
    init_logs(log_format);
    let outcome = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(cfg)) => serve(cfg).await,
        Some(Command::Schema { federation }) => {
            if federation {
                print!("{}", api::graphql::subgraph_sdl());
            } else {
                print!("{}", api::graphql::sdl());
            }
            Ok(())
        }
        Some(Command::Import(args)) => import(args).await,
        Some(Command::ImportCompetences(args)) => import_competences(args).await,
        Some(Command::Token(args)) => token(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("maillage: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn token(args: &TokenArgs) -> Result<(), BoxError> {
    println!(
        "{}",
        dev_token(
            &args.auth,
            &args.sub,
            args.org.as_deref(),
            &args.roles,
            args.ttl
        )?
    );
    Ok(())
}

async fn serve(cfg: ServeConfig) -> Result<(), BoxError> {
    let started = Instant::now();
    // A weak secret or an unreadable key stops the server before it listens.
    let authenticator = Authenticator::new(&cfg.auth)?;
    let db = ready_database(&cfg.db).await?;
    let state = AppState::load(db, cfg.limits, authenticator)
        .await?
        .with_registry(cfg.registry_in_memory, cfg.registry_leases)
        .with_referral_retention(cfg.referral_retention_days)
        .with_response_cache(cfg.response_cache_mb << 20);
    // Reads are right without it (SQL), only slower until it is built.
    if let Err(e) = state.registry.warm(&state.db).await {
        tracing::warn!(error = %e, "the in-memory registry is not built yet");
    }
    let listener = TcpListener::bind(cfg.listen).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        ready_ms = started.elapsed().as_millis() as u64,
        "serving GraphQL on /graphql"
    );
    api::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Migrates the database, imports the national reference into an empty one, and applies the
/// competence reference this build ships.
async fn ready_database(cfg: &DbConfig) -> Result<DatabaseConnection, BoxError> {
    let started = Instant::now();
    db::migrate(cfg).await?;
    let db = db::connect(cfg).await?;
    if !reference::is_loaded(&db).await? {
        tracing::info!("empty database: importing the national reference");
        let report = reference::import_shipped(&db, Clock::system().now()).await?;
        tracing::info!(
            ?report,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "reference imported"
        );
    }
    // A new build may ship a new nomenclature or new legal layers: applied when they differ.
    if reference::competences::sync_shipped(&db, Clock::system().now()).await? {
        tracing::info!("competence reference loaded");
    }
    Ok(db)
}

/// Declares the competences of a CSV file as the reference administrator; prints the report,
/// or every refused row (and writes nothing).
async fn import_competences(args: ImportCompetencesArgs) -> Result<(), BoxError> {
    let rows = bulk::parse(std::fs::File::open(&args.file)?).map_err(refused)?;
    let db = ready_database(&args.db).await?;
    let catalogue = Catalogue::load(&db).await?;
    let now = Clock::system().now();
    let ctx = WriteContext {
        now,
        actor: Actor {
            subject: Some("maillage:import-competences".into()),
            roles: [Role::Superadmin].into(),
            ..Actor::default()
        },
        request_id: format!("import-competences-{}", now.timestamp()),
        feed: None,
        gate: None,
    };
    let report = bulk::import(&db, &catalogue, &ctx, &rows, args.dry_run)
        .await
        .map_err(refused)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Prints every refused row; the error says how many.
fn refused(error: bulk::ImportError) -> BoxError {
    if let bulk::ImportError::Refused(rows) = &error {
        for row in rows {
            eprintln!("{row}");
        }
    }
    error.into()
}

async fn import(args: ImportArgs) -> Result<(), BoxError> {
    let started = Instant::now();
    let snapshot = match &args.from {
        Some(dir) => reference::compile_dir(dir)?,
        None => reference::Snapshot::decode(reference::snapshot::SHIPPED)?,
    };
    let snapshot = match args.until {
        Some(year) => snapshot.until(year)?,
        None => snapshot,
    };
    if let Some(path) = &args.write_snapshot {
        std::fs::write(path, snapshot.encode()?)?;
        tracing::info!(path = %path.display(), "snapshot written");
    }
    if args.no_load {
        return Ok(());
    }
    db::migrate(&args.db).await?;
    let db = db::connect(&args.db).await?;
    let report = reference::import(&db, &snapshot, Clock::system().now()).await?;
    reference::competences::sync_shipped(&db, Clock::system().now()).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import done"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
