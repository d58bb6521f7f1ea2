//! The Notion endpoints this client calls, named like the official SDK's
//! methods so stats and logs read the same as Notion's docs.

/// One Notion endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    UsersMe,
    DatabasesRetrieve,
    DataSourcesRetrieve,
    DataSourcesQuery,
    PagesRetrieve,
    PagesCreate,
    PagesUpdate,
    BlocksChildrenAppend,
    BlocksChildrenList,
    BlocksDelete,
}

impl Route {
    pub const ALL: [Route; 10] = [
        Route::UsersMe,
        Route::DatabasesRetrieve,
        Route::DataSourcesRetrieve,
        Route::DataSourcesQuery,
        Route::PagesRetrieve,
        Route::PagesCreate,
        Route::PagesUpdate,
        Route::BlocksChildrenAppend,
        Route::BlocksChildrenList,
        Route::BlocksDelete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::UsersMe => "users.me",
            Route::DatabasesRetrieve => "databases.retrieve",
            Route::DataSourcesRetrieve => "data_sources.retrieve",
            Route::DataSourcesQuery => "data_sources.query",
            Route::PagesRetrieve => "pages.retrieve",
            Route::PagesCreate => "pages.create",
            Route::PagesUpdate => "pages.update",
            Route::BlocksChildrenAppend => "blocks.children.append",
            Route::BlocksChildrenList => "blocks.children.list",
            Route::BlocksDelete => "blocks.delete",
        }
    }

    /// Whether the request changes data in Notion (what `writes` counts).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Route::PagesCreate
                | Route::PagesUpdate
                | Route::BlocksChildrenAppend
                | Route::BlocksDelete
        )
    }

    /// Whether sending the same request twice has the same effect as once.
    /// Creates and appends are not: a retry after an ambiguous failure could
    /// make a second page or a duplicated call-log entry.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Route::PagesCreate | Route::BlocksChildrenAppend)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
