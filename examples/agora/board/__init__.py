"""The board: a paginated list of posts, a "new post" form, a cached "top posters" sidebar."""
